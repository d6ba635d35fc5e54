using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>The commands as a script uses them: paths through links, outputs that cannot be written, help against the README.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // symbolic links and Unix permissions
public sealed class CliScripterTests
{
    private static async Task<(TempDirectory Dir, string Data)> TrainedAsync(int rows = 300)
    {
        var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, rows);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, "--schema", TestPaths.SchemaFile,
            "--artifacts", Path.Combine(dir.Path, "Artifacts"), "--final-model", Path.Combine(dir.Path, "final_model"),
            "--logs", Path.Combine(dir.Path, "Logs"), "--mode", "gbdt", "--Pipeline:OverfittingThreshold=1",
            $"--MLFLOW_TRACKING_URI={Path.Combine(dir.Path, "mlruns")}"]));
        return (dir, data);
    }

    private static string[] Predict(TempDirectory dir, string input, string output, params string[] more) =>
        ["predict", "--input", input, "--output", output, "--schema", TestPaths.SchemaFile,
            "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs"), .. more];

    private static string Log(TempDirectory dir) => string.Concat(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Select(File.ReadAllText));

    [Fact]
    public async Task Predict_refuses_its_own_input_reached_through_a_linked_folder()
    {
        var (dir, data) = await TrainedAsync();
        using var _ = dir;
        var here = Path.Combine(dir.Path, "here");
        Directory.CreateSymbolicLink(here, dir.Path);
        var original = File.ReadAllText(data);

        // in.csv read as here/in.csv and written as in.csv, and the other way round: the same file both times.
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(dir, Path.Combine(here, Path.GetFileName(data)), data)));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(dir, data, Path.Combine(here, Path.GetFileName(data)))));
        Assert.Equal(original, File.ReadAllText(data));
        Assert.Contains("is the input file", Log(dir));
    }

    [Fact]
    public async Task Predict_refuses_a_read_only_output_before_it_scores_the_input()
    {
        var (dir, data) = await TrainedAsync();
        using var _ = dir;
        var output = dir.File("verdicts.csv", "kept\n");
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.GroupRead);

        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(Predict(dir, data, output, "--explain", "all")));
        Assert.Equal("kept\n", File.ReadAllText(output));
        var log = Log(dir);
        Assert.Contains("verdicts.csv' is read-only", log);
        // Refused up front: it scored (and explained) every record first, minutes on a large file, and then said so.
        Assert.DoesNotContain("predict: scoring", log);
    }

    [Fact]
    public void Every_option_a_commands_help_lists_is_in_the_README()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var missing = CommandLine.Build().Subcommands
            .SelectMany(command => command.Options.Select(option => (Command: command.Name, option.Name)))
            .Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name != "--help")
            // As a word: --seed is not found in --seeds, nor --drop in --drop-margin.
            .Where(o => !System.Text.RegularExpressions.Regex.IsMatch(readme, System.Text.RegularExpressions.Regex.Escape(o.Name) + "(?![-a-z0-9])"))
            .Select(o => $"{o.Command} {o.Name}")
            .Distinct()
            .ToArray();
        Assert.Empty(missing); // was train --folds, --scoring, --logs and push-data --file: in --help only
    }

    [Fact]
    public void A_typed_option_and_its_setting_given_with_different_values_is_a_usage_error()
    {
        using var dir = new TempDirectory();
        // The typed option won without a word (train split with seed 3); the same option twice is already an error.
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "train", "--mode", "gbdt", "--seed", "3", "--Pipeline:Seed=5");
        Assert.True(code == CommandLine.UsageError, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("--seed '3' and --Pipeline:Seed=5 set the same setting to different values", stderr);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Artifacts")), "no run started");

        (code, _, stderr) = ProgramProcess.Run(dir, [], "push-data", "--batch-size", "10", "--MONGODB_BATCH_SIZE", "20");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("--batch-size '10' and --MONGODB_BATCH_SIZE=20", stderr);

        // The same value both ways is no conflict: predict goes on, to its missing model.
        (code, _, stderr) = ProgramProcess.Run(dir, [], "predict", "--input", "in.csv", "--output", "out.csv",
            "--schema", TestPaths.SchemaFile, $"--Pipeline__SchemaPath={TestPaths.SchemaFile}");
        Assert.True(code == CommandLine.Failed, $"exit {code}: {stderr}");
        Assert.Contains("No model to use", stderr);
    }
}
