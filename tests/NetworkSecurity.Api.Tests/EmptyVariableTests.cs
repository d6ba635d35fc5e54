using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// An empty environment variable of the product's sections is unset (Compose's <c>${SEED:-}</c>, Kubernetes'
/// <c>value: ""</c>): <c>Pipeline__Seed=</c> stopped the service and every command with "Failed to convert configuration
/// value '' at 'Pipeline:Seed'", and hid the settings file's value. An empty option is still a value given on purpose.
/// </summary>
public sealed class EmptyVariableTests
{
    private static readonly Dictionary<string, string> Empty = new()
    {
        ["Pipeline__Seed"] = "", ["Pipeline__Training__Mode"] = "", ["Api__MaxRows"] = "", ["Replication__LeaseSeconds"] = "", ["Tracking__Enabled"] = "",
    };

    [Fact]
    public void A_command_takes_empty_variables_for_unset()
    {
        using var dir = new TempDirectory();
        var input = dir.File("in.csv", "having_IP_Address\n1\n");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, Empty, "predict", "--input", input, "--output", Path.Combine(dir.Path, "out.csv"), "--final-model", Path.Combine(dir.Path, "final_model"));

        // Past the settings, to the missing model (exit 2 with "Failed to convert configuration value ''" before).
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr);
    }

    [Fact]
    public void An_empty_variable_leaves_the_settings_file_s_value_in_force()
    {
        using var dir = new TempDirectory();
        dir.File("appsettings.json", """{"Pipeline": {"TestFraction": 5}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Pipeline__TestFraction"] = "" }, "predict", "--input", "in.csv", "--output", "out.csv");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"(Pipeline:TestFraction = '5' from settings file '{Path.Combine(dir.Path, "appsettings.json")}')", stderr);
    }

    [Fact]
    public void The_service_takes_empty_variables_for_unset_and_an_empty_option_for_a_value()
    {
        // The service stops on another setting, after binding every section: that error alone is reported.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(Empty) { ["Api__MaxColumns"] = "20" }, "--urls", "http://127.0.0.1:0");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith("error: invalid configuration: Api:MaxColumns (20) is below the 30 features of the schema", stderr);

        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "--urls", "http://127.0.0.1:0", "--Pipeline:Seed=");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Pipeline:Seed", stderr);
    }

    [Fact]
    public void An_empty_log_level_variable_is_unset_for_the_commands_and_the_service()
    {
        // An env file's Serilog__MinimumLevel__Default=${LOG_LEVEL} with LOG_LEVEL unset stopped both with exit 2
        // ("Serilog:MinimumLevel:Default is empty"), where Pipeline__Seed= is unset.
        using var dir = new TempDirectory();
        var input = dir.File("in.csv", "having_IP_Address\n1\n");
        var empty = new Dictionary<string, string> { ["Serilog__MinimumLevel__Default"] = "", ["Serilog__MinimumLevel__Override__Microsoft"] = "" };
        var (code, stdout, stderr) = ProgramProcess.Run(dir, empty, "predict", "--input", input, "--output", Path.Combine(dir.Path, "out.csv"), "--final-model", Path.Combine(dir.Path, "final_model"));
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr);

        (code, stdout, stderr) = ProgramProcess.Run(dir, new(empty) { ["Api__MaxColumns"] = "20" }, "--urls", "http://127.0.0.1:0");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith("error: invalid configuration: Api:MaxColumns (20) is below the 30 features of the schema", stderr);

        // Given empty as an option, it is a value, refused as before.
        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export", "--Serilog:MinimumLevel:Default=");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Serilog:MinimumLevel:Default is empty", stderr);
    }

    [Fact]
    public void An_empty_log_folder_variable_leaves_the_settings_file_s_folder_in_force()
    {
        // Logging__Directory= put the log file in Logs/, whatever the settings file named.
        using var dir = new TempDirectory();
        dir.File("appsettings.json", """{"Logging": {"Directory": "my-logs"}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Logging__Directory"] = "" }, "export", "--final-model", Path.Combine(dir.Path, "final_model"));

        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "my-logs"), "export_*.log"));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Logs")), "a log folder the settings did not name");
    }

    [Fact]
    public void An_empty_kestrel_variable_is_unset_for_the_service_and_the_commands()
    {
        // Compose's "Kestrel__Endpoints__Http__Url: ${API_URL:-}" with API_URL unset made an endpoint without a Url, and
        // the service stopped: "Kestrel:Endpoints:Http:Url is not set".
        using var dir = new TempDirectory();
        var empty = new Dictionary<string, string> { ["Kestrel__Endpoints__Http__Url"] = "", ["Kestrel__EndpointDefaults__Protocols"] = "" };
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(empty) { ["Api__MaxColumns"] = "20" }, "--urls", "http://127.0.0.1:0");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith("error: invalid configuration: Api:MaxColumns (20) is below the 30 features of the schema", stderr);

        (code, stdout, stderr) = ProgramProcess.Run(dir, empty, "export", "--final-model", Path.Combine(dir.Path, "final_model"));
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr);
    }

    [Theory]
    [InlineData("Pipeline__Seed", "PIPELINE__SEED")]
    [InlineData("PIPELINE__SEED", "Pipeline__Seed")]
    public void An_empty_spelling_of_a_setting_beside_a_set_one_is_unset_not_a_second_value(string empty, string set)
    {
        // Pipeline__Seed= beside PIPELINE__SEED=... was refused as "one setting with different values", and the empty
        // one, when the provider read it last, hid the set one. The set value ('abc', refused) is the one in force.
        using var dir = new TempDirectory();
        foreach (string[] arguments in new[] { new[] { "export", "--final-model", Path.Combine(dir.Path, "final_model") }, ["--urls", "http://127.0.0.1:0"] })
        {
            var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [empty] = "", [set] = "abc" }, arguments);

            Assert.True(code == 2, $"{arguments[0]}: exit {code}: {stderr}{stdout}");
            Assert.DoesNotContain("different values", stderr);
            Assert.Contains($"Pipeline:Seed 'abc' is not a whole number, 0 or more. (Pipeline:Seed = 'abc' from environment variable {set})", stderr);
        }
    }
}
