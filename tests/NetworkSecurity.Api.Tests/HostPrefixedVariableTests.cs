using System.Text.RegularExpressions;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The web host reads every ASPNETCORE_ and DOTNET_ variable as a setting without its prefix, beneath the settings files;
/// the commands read none. ASPNETCORE_Pipeline__Seed=5 was then lost to appsettings.json's 42 in the service, ignored by
/// train, and a misspelt ASPNETCORE_Pipline__Seed checked by neither: both now refuse them alike, naming the variable.
/// </summary>
public sealed class HostPrefixedVariableTests
{
    [Theory]
    [InlineData("ASPNETCORE_Api__MaxExplainRows", "7", "set Api__MaxExplainRows instead", "export")]
    [InlineData("ASPNETCORE_Api__MaxExplainRows", "7", "set Api__MaxExplainRows instead", "--urls", "http://127.0.0.1:0")]
    [InlineData("ASPNETCORE_Pipline__Seed", "5", "set Pipeline__Seed instead", "export")] // misspelt section
    [InlineData("DOTNET_S3_BUCKET", "b", "set S3_BUCKET instead", "--urls", "http://127.0.0.1:0")]
    [InlineData("ASPNETCORE_Pipeline__Sed", "5", "Pipeline has no 'Sed'", "--urls", "http://127.0.0.1:0")] // misspelt key
    public void A_product_setting_with_the_host_prefix_is_refused_by_the_service_and_the_commands_alike(string variable, string value, string reason, params string[] arguments)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, arguments);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: environment variable {variable}: the {variable[..(variable.IndexOf('_') + 1)]} prefix is for the web host's own settings", stderr);
        Assert.Contains(reason, stderr);
    }

    [Fact]
    public void The_deployment_environments_and_the_hosts_own_prefixed_variables_are_accepted()
    {
        // Every variable .env.example names (set or commented out), the compose file's and the ConfigMap's, and the
        // prefixed ones the host and the runtime read themselves.
        var root = TestPaths.RepositoryRoot;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(File.ReadAllText(Path.Combine(root, ".env.example")), @"^#? ?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", RegexOptions.Multiline))
        {
            variables[m.Groups[1].Value] = m.Groups[2].Value.Trim();
        }

        Assert.True(variables.Count > 70, $"the file was not read: {variables.Count} variables");
        foreach (var file in new[] { "docker-compose.yml", Path.Combine("deploy", "kubernetes", "configmap.yaml"), Path.Combine("deploy", "kubernetes", "deployment.yaml") })
        {
            foreach (Match m in Regex.Matches(File.ReadAllText(Path.Combine(root, file)), @"^\s+(?:- name: )?([A-Za-z][A-Za-z0-9]*(?:__?[A-Za-z0-9]+)+):", RegexOptions.Multiline))
            {
                variables.TryAdd(m.Groups[1].Value, "x");
            }
        }

        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://+:8080", ["ASPNETCORE_HTTP_PORTS"] = "8080", ["ASPNETCORE_ENVIRONMENT"] = "Staging",
            ["DOTNET_ENVIRONMENT"] = "Staging", ["DOTNET_gcServer"] = "0", ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
            ["ASPNETCORE_Kestrel__Certificates__Default__Path"] = "/certs/site.pfx", ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true",
            ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false", ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1",
            ["ASPNETCORE_App__Name"] = "x", // too short a section to take for a misspelt Api
            ["ASPNETCORE_Logging__Console__FormatterName"] = "", // empty: unset
        })
        {
            variables[name] = value;
        }

        Assert.Null(SettingNames.EnvironmentProblem(variables));
        Assert.Contains("ASPNETCORE_URLS", variables.Keys);
        Assert.Contains("Logging__Directory", variables.Keys);
    }
}
