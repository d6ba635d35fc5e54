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
}
