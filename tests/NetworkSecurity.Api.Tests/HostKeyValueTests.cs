using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The host's own keys were checked by name only: shutdownTimeoutSeconds '45s' kept the default 30 s (the service then
/// cut a stop short), detailedErrors 'yes' was false, without a word.
/// </summary>
public sealed class HostKeyValueTests
{
    [Theory]
    [InlineData("ASPNETCORE_SHUTDOWNTIMEOUTSECONDS", "45s", "environment variable ASPNETCORE_SHUTDOWNTIMEOUTSECONDS: shutdownTimeoutSeconds '45s' is not a whole number of seconds (the host would keep its default, 30).")]
    [InlineData("DOTNET_detailedErrors", "yes", "environment variable DOTNET_detailedErrors: detailedErrors 'yes' is not true or false (the host would take it for false).")]
    public void A_host_variable_with_a_value_the_host_cannot_read_stops_the_service(string variable, string value, string error)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, "--urls", "http://127.0.0.1:0");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"error: {error}", stderr.Trim());
    }

    [Fact]
    public void Host_values_are_checked_as_options_and_in_settings_files()
    {
        Assert.Equal("shutdownTimeoutSeconds '-5' is not a whole number of seconds (the host would keep its default, 30).", SettingNames.Problem("--shutdownTimeoutSeconds=-5"));
        Assert.Equal("captureStartupErrors 'on' is not true or false (the host would take it for false).", SettingNames.Problem("--captureStartupErrors", "on"));
        foreach (var token in new[] { "--shutdownTimeoutSeconds=45", "--detailedErrors=true", "--detailedErrors=1", "--suppressStatusMessages=False", "--preventHostingStartup=0", "--urls=http://127.0.0.1:1" })
        {
            Assert.Null(SettingNames.Problem(token));
        }

        Assert.Null(SettingNames.EnvironmentProblem(new Dictionary<string, string> { ["ASPNETCORE_SHUTDOWNTIMEOUTSECONDS"] = "45", ["DOTNET_detailedErrors"] = "" }));
    }

    [Fact]
    public void The_generic_host_s_own_keys_and_forwarded_headers_switch_are_accepted_and_their_values_checked()
    {
        // HostOptions reads startupTimeoutSeconds, servicesStartConcurrently and servicesStopConcurrently from
        // configuration, and ASP.NET Core ForwardedHeaders_Enabled (ASPNETCORE_FORWARDEDHEADERS_ENABLED without its
        // prefix): as options or in a settings file they were refused as "unknown setting".
        foreach (var token in new[] { "--startupTimeoutSeconds=60", "--servicesStartConcurrently=true", "--servicesStopConcurrently=False", "--ForwardedHeaders_Enabled=true", "--FORWARDEDHEADERS_ENABLED=false" })
        {
            Assert.Null(SettingNames.Problem(token));
        }

        Assert.Equal("startupTimeoutSeconds '1m' is not a whole number of seconds (the host would keep its default, no limit).", SettingNames.Problem("--startupTimeoutSeconds=1m"));
        Assert.Equal("servicesStopConcurrently '1' is not true or false (the host would take it for false).", SettingNames.Problem("--servicesStopConcurrently=1"));
        Assert.Equal("environment variable ASPNETCORE_FORWARDEDHEADERS_ENABLED: ForwardedHeaders_Enabled 'yes' is not true or false (the host would take it for false).",
            SettingNames.EnvironmentProblem(new Dictionary<string, string> { ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "yes" }));

        // In a settings file, as the real program reads it: export gets past the settings to its own "no model".
        using var dir = new TempDirectory();
        dir.File("appsettings.json", """{"startupTimeoutSeconds": 60, "servicesStopConcurrently": true, "ForwardedHeaders_Enabled": true}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" }, "export", "--output", Path.Combine(dir.Path, "m.onnx"));
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr);
    }
}
