using System.Text.RegularExpressions;
using NetworkSecurity.Pipeline.Tests;
using YamlDotNet.RepresentationModel;

namespace NetworkSecurity.Storage.Tests.Replication;

/// <summary>
/// The nginx in front of docker-compose's API replicas passes on what the README tells operators to send. Checked on
/// its configuration: nginx is not part of the test machine (both rules were seen with a real nginx 1.22 in front of two
/// replicas: a bare 400 for POST /train, and GET /train/&lt;id&gt; answering 404 and 200 in turn).
/// </summary>
public sealed partial class ComposeLoadBalancerTests
{
    private static readonly string Config = LoadBalancerConfig();

    [Fact]
    public void The_api_is_spoken_to_in_http_1_1_so_a_post_without_a_body_reaches_it()
    {
        // nginx's default HTTP/1.0 sent `curl -X POST -H "X-Api-Key: ..." http://localhost:8080/train` (README,
        // docs/deployment.md) on without a Content-Length, which Kestrel refuses: 400 with an empty body, no training.
        Assert.Equal(["1.1"], Directive("proxy_http_version"));
    }

    [Fact]
    public void A_training_job_is_looked_for_on_every_replica()
    {
        // Jobs live in the memory of the replica that queued them: polling the 202's Location through round-robin
        // met another replica's 404 every other time (and the page stopped polling at the first one).
        var retried = Assert.Single(Directive("proxy_next_upstream")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("http_404", retried);
        Assert.DoesNotContain("non_idempotent", retried); // POST /train is never sent twice
    }

    private static string[] Directive(string name) =>
        [.. DirectivePattern().Matches(Config).Where(m => m.Groups[1].Value == name).Select(m => m.Groups[2].Value.Trim())];

    // The lb service's command writes nginx's configuration with a here-document.
    private static string LoadBalancerConfig()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(TestPaths.RepositoryRoot, "docker-compose.yml")))
        {
            stream.Load(reader);
        }

        var lb = (YamlMappingNode)DeployManifests.Node((YamlMappingNode)stream.Documents[0].RootNode, "services", "lb");
        var script = string.Join('\n', ((YamlSequenceNode)DeployManifests.Node(lb, "command")).Children.Select(c => ((YamlScalarNode)c).Value));
        var start = script.IndexOf("<<'EOF'", StringComparison.Ordinal);
        Assert.True(start >= 0, "the lb command no longer writes nginx's configuration with <<'EOF'");
        return script[start..script.IndexOf("\nEOF", start, StringComparison.Ordinal)];
    }

    [GeneratedRegex(@"^\s*([a-z_]+)\s+([^;]*);", RegexOptions.Multiline)]
    private static partial Regex DirectivePattern();
}
