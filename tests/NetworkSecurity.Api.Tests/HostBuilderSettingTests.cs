using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// hostBuilder:reloadConfigOnChange is the host's own switch for watching the settings files, read before them: as an
/// option it was refused ("no section 'hostBuilder'"), in a settings file or as a variable without DOTNET_ it was
/// refused or taken, with no effect either way. ConnectionStrings, which nothing reads, was refused without saying so.
/// </summary>
public sealed class HostBuilderSettingTests
{
    [Theory]
    [InlineData("--urls", "http://127.0.0.1:0")]
    [InlineData("export")]
    public void The_reload_switch_is_accepted_as_an_option_by_the_service_and_the_commands(params string[] arguments)
    {
        // A schema that is not there stops either one right after the settings are taken, naming the schema only.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__SchemaPath"] = "nope.yaml" }, [.. arguments, "--hostBuilder:reloadConfigOnChange=false"]);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Schema file 'nope.yaml' does not exist.", stderr + stdout);
        Assert.DoesNotContain("hostBuilder", stderr + stdout);

        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), [.. arguments, "--hostBuilder:reloadConfigOnChange=maybe"]);
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: hostBuilder:reloadConfigOnChange 'maybe' is not true or false.", stderr.Trim());
    }

    [Fact]
    public void The_reload_switch_where_the_host_does_not_read_it_is_refused_saying_where_it_goes()
    {
        using var dir = new TempDirectory();
        var settings = dir.File("appsettings.json", """{"hostBuilder": {"reloadConfigOnChange": false}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "--urls", "http://127.0.0.1:0");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: settings file '{settings}': 'hostBuilder:reloadConfigOnChange' has no effect here: the host reads it before the settings files", stderr);
        Assert.Contains("DOTNET_hostBuilder__reloadConfigOnChange=false", stderr);
        File.Delete(settings);

        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["hostBuilder__reloadConfigOnChange"] = "false" }, "export");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith("error: environment variable hostBuilder__reloadConfigOnChange: the host reads it before the settings files", stderr);
    }

    [Fact]
    public void A_connection_string_says_nothing_reads_it_and_names_the_variable_that_is_read()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "--urls", "http://127.0.0.1:0", "--ConnectionStrings:Mongo=mongodb://u:s3cret@db/");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: unknown setting 'ConnectionStrings:Mongo': nothing reads ConnectionStrings; MongoDB's connection string is MONGODB_URL (a variable, or --MONGODB_URL=...), MLflow's and S3's addresses are MLFLOW_TRACKING_URI and S3_ENDPOINT_URL.", stderr.Trim());
        Assert.DoesNotContain("s3cret", stderr + stdout);
    }

    [Fact]
    public void The_reload_switch_as_an_ASPNETCORE_variable_is_accepted_and_its_value_checked_naming_the_variable()
    {
        // The web host reads ASPNETCORE_ variables before it decides to watch the files, as it does DOTNET_ ones (the
        // service then opens no file watcher); a value it cannot read stopped it naming the key but not the variable.
        Assert.Null(SettingNames.EnvironmentProblem(new Dictionary<string, string> { ["ASPNETCORE_hostBuilder__reloadConfigOnChange"] = "false", ["DOTNET_hostBuilder__reloadConfigOnChange"] = "True" }));

        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["ASPNETCORE_hostBuilder__reloadConfigOnChange"] = "no" }, "--urls", "http://127.0.0.1:0");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: environment variable ASPNETCORE_hostBuilder__reloadConfigOnChange: hostBuilder:reloadConfigOnChange 'no' is not true or false.", stderr.Trim());
    }
}
