using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// A typed setting given a value that does not convert (empty on the command line or in a settings file, or a word
/// where a number goes) was refused in the configuration binder's words: "Failed to convert configuration value '' at
/// 'Pipeline:Seed' to type 'System.Int32'. ( is not a valid value for Int32. (Parameter 'value'))". It is now said as the
/// other setting errors are: the key, the value, and what the key takes.
/// </summary>
public sealed class SettingValueMessageTests
{
    [Theory]
    [InlineData("--Pipeline:Seed=", "Pipeline:Seed is empty: give a whole number, 0 or more, or leave the setting out. (Pipeline:Seed = '' from option --Pipeline:Seed)")]
    [InlineData("--Pipeline:Seed=abc", "Pipeline:Seed 'abc' is not a whole number, 0 or more. (Pipeline:Seed = 'abc' from option --Pipeline:Seed)")]
    [InlineData("--Pipeline:TestFraction=", "Pipeline:TestFraction is empty: give a number from 0 to 0.5, or leave the setting out.")]
    [InlineData("--Pipeline:Training:DropMargin=x", "Pipeline:Training:DropMargin 'x' is not a number from 0 to 1.")]
    [InlineData("--Pipeline:ImputerNeighbors=3.5", "Pipeline:ImputerNeighbors '3.5' is not a whole number from 1 to 50.")]
    [InlineData("--Api:TrainOnStartup=maybe", "Api:TrainOnStartup 'maybe' is not true or false (1/0, yes/no, on/off).")]
    [InlineData("--Api:MaxUploadBytes=", "Api:MaxUploadBytes is empty: give a whole number from 1024 to 1073741824, or leave the setting out.")]
    [InlineData("--Replication:PollSeconds=99999999999", "Replication:PollSeconds '99999999999' is out of range: give a whole number from 1 to 3600.")]
    [InlineData("--Api:MaxRows=2147483648", "Api:MaxRows '2147483648' is out of range: give a whole number from 1 to 2147483647.")] // "not a whole number, 1 or more"
    [InlineData("--Pipeline:Seed=-99999999999", "Pipeline:Seed '-99999999999' is out of range: give a whole number from 0 to 2147483647.")]
    public void A_value_that_does_not_convert_names_the_key_and_what_it_takes(string setting, string message)
    {
        using var dir = new TempDirectory();
        foreach (string[] arguments in new[] { new[] { "export", setting }, ["--urls", "http://127.0.0.1:0", setting] })
        {
            var (code, stdout, stderr) = ProgramProcess.Run(dir, [], arguments);
            Assert.True(code == 2, $"{string.Join(' ', arguments)}: exit {code}: {stderr}{stdout}");
            Assert.Contains(message, stderr);
            Assert.DoesNotContain("Failed to convert", stderr);
            Assert.DoesNotContain("(Parameter", stderr);
        }
    }

    [Fact]
    public void A_settings_file_s_value_that_does_not_convert_is_named_with_its_file()
    {
        using var dir = new TempDirectory();
        var file = dir.File("appsettings.json", """{"Pipeline": {"Training": {"CrossValidationFolds": ""}}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"Pipeline:Training:CrossValidationFolds is empty: give a whole number from 2 to 20, or leave the setting out. (Pipeline:Training:CrossValidationFolds = '' from settings file '{file}')", stderr);
    }

    [Theory]
    [InlineData("Pipeline__Seed", "0x10", "Pipeline:Seed '0x10' is written in hexadecimal, which the options refuse: give a whole number, 0 or more, in decimal.")]
    [InlineData("Api__MaxRows", "#FF", "Api:MaxRows '#FF' is written in hexadecimal, which the options refuse: give a whole number, 1 or more, in decimal.")]
    public void A_whole_number_in_hexadecimal_is_refused_as_the_option_refuses_it(string variable, string value, string message)
    {
        // The binder read Pipeline__Seed=0x10 as seed 16, where --seed 0x10 is refused.
        using var dir = new TempDirectory();
        foreach (string[] arguments in new[] { new[] { "export", "--final-model", Path.Combine(dir.Path, "final_model") }, ["--urls", "http://127.0.0.1:0"] })
        {
            var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, arguments);
            Assert.True(code == 2, $"{arguments[0]}: exit {code}: {stderr}{stdout}");
            Assert.Contains($"{message} ({variable.Replace("__", ":", StringComparison.Ordinal)} = '{value}' from environment variable {variable})", stderr);
        }
    }
}
