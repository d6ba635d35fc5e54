using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The commands' own sections (Evaluate, Predict, PushData, Export) were let through whole: --Export:Formt=onnx,
/// Evaluate__Sedes=3 or "Predict": {"Inptu": …} was kept as a key nothing reads, and the command ran with its default.
/// </summary>
public sealed class CommandSectionKeyTests
{
    [Fact]
    public void A_misspelt_key_of_a_commands_section_is_a_usage_error_naming_its_keys_and_options()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "export", "--Export:Formt=onnx");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: unknown setting 'Export:Formt': Export has Format (--format), Output (--output).", stderr.Trim());

        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Evaluate__Sedes"] = "3" }, "evaluate");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: environment variable Evaluate__Sedes: unknown setting 'Evaluate:Sedes': Evaluate has Seeds (--seeds), WriteSplits (--write-splits).", stderr.Trim());

        var settings = dir.File("appsettings.json", """{"Predict": {"Inptu": "x.csv"}}""");
        (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "--urls", "http://127.0.0.1:0");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: settings file '{settings}': unknown setting 'Predict:Inptu': Predict has Input (--input), Output (--output), Explain (--explain).", stderr);
    }

    [Fact]
    public void Every_key_a_typed_option_sets_is_accepted_in_any_case()
    {
        foreach (var (key, _) in new CliOptions([]).Keys)
        {
            Assert.Null(SettingNames.Problem($"--{key}=1"));
            Assert.Null(SettingNames.Problem($"--{key.ToUpperInvariant()}=1"));
        }

        Assert.Null(SettingNames.Problem("--Export=")); // a section's own entry, as the test host passes them
    }

    [Fact]
    public void Predict_takes_its_input_and_output_from_its_section_when_the_options_are_not_typed()
    {
        // Predict:Input and Predict:Output pass the key check above, but predict refused to run without --input and
        // --output ("Option '--input' is required."), so a settings file or Predict__Input set them for nothing.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 20);
        dir.File("appsettings.json", System.Text.Json.JsonSerializer.Serialize(new { Predict = new { Input = data } }));
        var output = Path.Combine(dir.Path, "verdicts.csv");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Predict__Output"] = output, ["Pipeline__FinalModelDirectory"] = Path.Combine(dir.Path, "final_model") }, "predict");
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("No model to use", stderr); // past the options, to the model it scores with

        // Given nowhere, it is still required, naming the option and the key.
        File.Delete(Path.Combine(dir.Path, "appsettings.json"));
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Predict__Output"] = output }, "predict");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Option '--input' is required (or Predict:Input in a settings file, or the variable Predict__Input).", stderr);
    }
}
