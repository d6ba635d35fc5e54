using NetworkSecurity.Pipeline.Tests;
using YamlDotNet.RepresentationModel;

namespace NetworkSecurity.Storage.Tests.Replication;

/// <summary>The Kubernetes manifests under deploy/kubernetes, parsed.</summary>
public sealed class DeployManifests
{
    public static string Folder => Path.Combine(TestPaths.RepositoryRoot, "deploy", "kubernetes");

    public required IReadOnlyList<(string File, YamlMappingNode Document)> Documents { get; init; }

    public static DeployManifests Load()
    {
        var documents = new List<(string, YamlMappingNode)>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            documents.AddRange(stream.Documents.Select(d => (Path.GetFileName(file), (YamlMappingNode)d.RootNode)));
        }

        return new DeployManifests { Documents = documents };
    }

    public YamlMappingNode Single(string kind, string? file = null) =>
        Documents.Single(d => Text(d.Document, "kind") == kind && (file is null || d.File == file)).Document;

    /// <summary>The API container's probes: kind (readiness, liveness, startup), path and port (name or number).</summary>
    public IReadOnlyList<(string Kind, string Path, string Port)> Probes
    {
        get
        {
            var container = ApiContainer;
            return new[] { "readinessProbe", "livenessProbe", "startupProbe" }
                .Where(p => container.Children.ContainsKey(p))
                .Select(p => (p, Text(container, p, "httpGet", "path"), Text(container, p, "httpGet", "port")))
                .ToArray();
        }
    }

    public YamlMappingNode ApiContainer => (YamlMappingNode)((YamlSequenceNode)Node(Single("Deployment"), "spec", "template", "spec", "containers")).Children.Single();

    public static YamlNode Node(YamlMappingNode root, params string[] path)
    {
        YamlNode node = root;
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    public static string Text(YamlMappingNode root, params string[] path) => ((YamlScalarNode)Node(root, path)).Value!;
}
