using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Tests;

public sealed class CommandLineTests
{
    private static string[] Common(TempDirectory dir) =>
    [
        "--schema", TestPaths.SchemaFile, "--artifacts", Path.Combine(dir.Path, "Artifacts"),
        "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs"), "--mode", "gbdt",
        "--Pipeline:OverfittingThreshold=1", // small samples overfit; the gate has its own tests
        $"--MLFLOW_TRACKING_URI={Path.Combine(dir.Path, "mlruns")}",
    ];

    [Fact]
    public async Task Train_then_predict_scores_a_csv_offline_through_the_same_code_path()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir)]));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir.Path, "Logs"), "train_*.log"));
        var runMeta = Directory.GetFiles(Path.Combine(dir.Path, "mlruns"), "meta.yaml", SearchOption.AllDirectories)
            .Select(File.ReadAllText).Single(m => m.Contains("run_id:", StringComparison.Ordinal));
        Assert.Contains("status: 3", runMeta);

        var output = Path.Combine(dir.Path, "out.csv");
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", data, "--output", output,
            "--schema", TestPaths.SchemaFile, "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs")]));
        var lines = File.ReadAllLines(output);
        Assert.Equal(1201, lines.Length);
        Assert.EndsWith(",Result,predicted_column,phishing_probability,verdict", lines[0]);
        Assert.Matches(@",(-1|1),0(\.\d+)?|1,(phishing|legitimate)$", lines[1]);
    }

    [Fact]
    public async Task Bad_input_exits_non_zero_and_does_not_touch_final_model()
    {
        using var dir = new TempDirectory();
        var bad = dir.File("bad.csv", "a;b\n1;2\n");
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["train", "--data", bad, .. Common(dir)]));
        Assert.Null(new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
        var log = File.ReadAllText(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Single());
        Assert.Contains("bad.csv, line 1", log);
    }

    [Fact]
    public async Task Unknown_options_and_commands_are_usage_errors()
    {
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--colour", "red"]));
        using var dir = new TempDirectory();
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["fly", "--logs", Path.Combine(dir.Path, "Logs")]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--logs", Path.Combine(dir.Path, "Logs")]));
    }

    [Theory]
    [InlineData("train --seed abc", "--seed: 'abc' is not a whole number.")]
    [InlineData("train --split sideways", "--split: 'sideways' is not allowed; use one of stratified, grouped.")]
    [InlineData("train --test-fraction 0.9", "--test-fraction: '0.9' is not a number from 0 to 0.5.")]
    [InlineData("train --folds 1", "--folds: '1' is not a whole number from 2 to 20.")]
    [InlineData("evaluate --drop-margin 1.5", "--drop-margin: '1.5' is not a number from 0 to 1.")]
    [InlineData("evaluate --seeds 4-0", "--seeds: '4-0' is not a range like 0-4 or a list like 1,3,7.")]
    [InlineData("predict --input a.csv", "Option '--output' is required.")]
    [InlineData("fly", "unknown command 'fly'; the commands are train, evaluate, predict, push-data, export and help.")]
    public void Bad_arguments_get_one_line_naming_the_option_and_exit_code_2(string arguments, string message)
    {
        var (code, stdout, stderr) = RunProgram(arguments.Split(' '));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", stderr + stdout); // no stack trace
    }

    [Theory]
    [InlineData("--Pipeline:Training:DropMargin=2", "Pipeline:Training:DropMargin: The field DropMargin must be between 0 and 1.")]
    [InlineData("--Pipeline:Training:CrossValidationFolds=1", "Pipeline:Training:CrossValidationFolds: The field CrossValidationFolds must be between 2 and 20.")]
    [InlineData("--Pipeline:Training:Mode=fastest", "Training:Mode must be 'search' or 'gbdt'.")]
    [InlineData("--learners=fasttree,xgboost", "Pipeline:Training:Learners (--learners): unknown learner(s) xgboost; known: gradient_boosting")]
    [InlineData("--Pipeline:Training:Learners=Random_Forest", "unknown learner(s) Random_Forest;")]
    public void Bad_training_settings_are_refused_before_any_work_naming_the_setting(string setting, string message)
    {
        // The Training section is nested in Pipeline: its own attributes are checked too, not only Pipeline's.
        var (code, stdout, stderr) = RunProgram(["train", setting, "--logs", "none"]);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains(message, stderr + stdout);
        Assert.DoesNotContain("Run ", stdout);
    }

    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("train --help")]
    [InlineData("evaluate --help")]
    [InlineData("predict --help")]
    [InlineData("push-data --help")]
    [InlineData("export --help")]
    public void Every_command_has_help(string arguments)
    {
        var (code, stdout, _) = RunProgram(arguments.Split(' '));
        Assert.Equal(CommandLine.Success, code);
        Assert.Contains("Usage:", stdout);
        if (arguments.StartsWith("train", StringComparison.Ordinal))
        {
            Assert.Contains("--split <stratified|grouped>", stdout);
        }
        else if (!arguments.Contains(' ', StringComparison.Ordinal))
        {
            Assert.Contains(CommandLine.ExitCodes, stdout);
        }
    }

    [Fact]
    public async Task Configuration_keys_still_work_as_options_beside_typed_ones()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 800);
        // An impossible quality gate given as a configuration key: the run trains and is not promoted (exit code 3).
        Assert.Equal(CommandLine.NotPromoted, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir), "--Pipeline:ExpectedScore", "1"]));
        Assert.Null(new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
    }

    [Fact]
    public async Task Evaluate_writes_its_exact_splits_and_the_product_probabilities()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        var splits = Path.Combine(dir.Path, "splits");
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--split", "grouped", "--seeds", "3,5", "--write-splits", splits, "--logs", "none"]));
        foreach (var seed in new[] { 3, 5 })
        {
            var folder = Path.Combine(splits, "grouped", $"seed{seed}");
            var train = File.ReadAllLines(Path.Combine(folder, "train.csv"));
            var test = File.ReadAllLines(Path.Combine(folder, "test.csv"));
            var product = File.ReadAllLines(Path.Combine(folder, "product.csv"));
            Assert.Equal(train[0], test[0]);
            Assert.EndsWith(",Result", train[0], StringComparison.Ordinal);
            Assert.Equal(1200, train.Length - 1 + test.Length - 1);
            Assert.InRange(test.Length - 1, 200, 280);
            Assert.Equal(test.Length, product.Length);
            static string Vector(string line) => line[..line.LastIndexOf(',')];
            var trainVectors = train.Skip(1).Select(Vector).ToHashSet();
            Assert.DoesNotContain(test.Skip(1).Select(Vector), trainVectors.Contains); // grouped: no copy of a test row in training
            for (var i = 1; i < test.Length; i++)
            {
                var fields = product[i].Split(',');
                Assert.Equal(test[i][(test[i].LastIndexOf(',') + 1)..], fields[^2]);
                Assert.InRange(double.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture), 0, 1);
            }
        }

        // No hold-out leaves nothing to evaluate on: a clear error, not an empty table.
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--test-fraction", "0", "--logs", "none"]));
    }

    [Fact]
    public void The_published_program_finds_its_bundled_schema_grid_and_data_from_any_folder()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = RunProgram(["train", "--mode", "gbdt", "--logs", "none", "--Pipeline:OverfittingThreshold=1"], workingDirectory: dir.Path);
        Assert.True(code == CommandLine.Success, stderr + stdout);
        Assert.Contains("Promoted model", stdout);
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "final_model")));
    }

    /// <summary>The real program in its own process, as a user runs it (redirected output: plain progress lines).</summary>
    private static (int Code, string Stdout, string Stderr) RunProgram(string[] arguments, string? workingDirectory = null)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "NetworkSecurity.Api.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Path.GetTempPath() };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["MLFLOW_TRACKING_URI"] = Path.Combine(workingDirectory ?? Path.GetTempPath(), "mlruns");
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "the program did not finish in 2 minutes");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
