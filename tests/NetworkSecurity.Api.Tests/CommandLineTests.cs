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
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", data, "--output", output, .. Common(dir)]));
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
}
