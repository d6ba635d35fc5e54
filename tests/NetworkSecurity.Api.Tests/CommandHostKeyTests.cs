using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The web host's own keys given to a command (--ENVIRONMENT=Staging, --URLS=...) were taken and ignored: the service
/// given --ENVIRONMENT=Staging read appsettings.Staging.json, train read appsettings.Production.json without a word.
/// </summary>
public sealed class CommandHostKeyTests
{
    [Fact]
    public void The_environment_option_the_service_reads_is_refused_by_a_command_naming_the_variable_it_reads()
    {
        using var dir = new TempDirectory();
        var staging = dir.File("appsettings.Staging.json", """{"Pipeline": {"Seed": "staging"}}""");

        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "--urls", "http://127.0.0.1:0", "--ENVIRONMENT=Staging");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"from settings file '{staging}'", stderr); // the service reads it

        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "export", "--ENVIRONMENT=Staging");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: '--ENVIRONMENT' is a setting of the web service's host; a command picks appsettings.{Environment}.json by the ASPNETCORE_ENVIRONMENT (or DOTNET_ENVIRONMENT) variable: set that instead.", stderr.Trim());

        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "export", "--URLS=http://127.0.0.1:1");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: '--URLS' is a setting of the web service's host, which the commands do not read: leave it out.", stderr.Trim());

        // The variable is what a command reads, as the service does.
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["ASPNETCORE_ENVIRONMENT"] = "Staging" }, "export");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"from settings file '{staging}'", stdout + stderr);
    }
}
