using System.Globalization;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Exit code 2 is for settings; a failure deep in a run is what it is. Every ArgumentException or OverflowException
/// used to count as "Invalid configuration" (exit 2), wherever it came from.
/// </summary>
public sealed class FailureClassificationTests
{
    [Fact]
    public void A_model_whose_probabilities_are_not_numbers_fails_the_run_saying_so_in_train_and_evaluate()
    {
        // Was an ArgumentOutOfRangeException from the Brier score in evaluate ("Invalid configuration", exit 2, then
        // "failed unexpectedly"), and in train a model scored F1 0.0000 and "not promoted" without a word why.
        using var dir = new TempDirectory();
        var schema = dir.File("schema.yaml", TwoFloatSchema.Yaml);
        double[] big = [1.7e308, -1.7e308, 5e307, 0];
        var rows = Enumerable.Range(0, 400).Select(i => string.Create(CultureInfo.InvariantCulture, $"{big[i % 4]:R},{big[(i / 4) % 4]:R},{i % 2}"));
        var data = dir.File("huge.csv", "a,b,y\n" + string.Join('\n', rows) + "\n");

        foreach (var command in new[] { "evaluate", "train" })
        {
            string[] arguments = command == "evaluate"
                ? ["evaluate", "--data", data, "--schema", schema, "--seeds", "1", "--learners", "logistic_regression"]
                : ["train", "--data", data, "--schema", schema, "--learners", "logistic_regression"];
            var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Logging__Directory"] = "none" }, arguments);

            Assert.True(code == CommandLine.Failed, $"{command}: exit {code}: {stderr}{stdout}");
            var failure = Assert.Single(stderr.Split('\n'), l => l.Contains($"{command} failed: ", StringComparison.Ordinal));
            Assert.Matches(@"The trained model \(LogisticRegressionModel\) gave [0-9,]+ of [0-9,]+ rows a probability that is not a number between 0 and 1 \(the first: row [0-9,]+, NaN\)", failure);
            Assert.Contains("(the largest here is 1.7E+308)", failure);
            Assert.DoesNotContain("Invalid configuration", stderr, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("unexpectedly", stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(dir.Path, "final_model"))); // nothing promoted
    }

    [Fact]
    public void A_grid_value_the_learner_refuses_is_a_usage_error_naming_the_grid_before_any_work()
    {
        // Was a failed run (exit 1) after the data had been read and split, and in the service every training job failed.
        using var dir = new TempDirectory();
        var grid = dir.File("grid.yaml", "learners:\n  gradient_boosting:\n    n_estimators: [5]\n    learning_rate: [5]\n");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), "train", "--data", PipelineFactory.Sample(dir, 200), "--schema", TestPaths.SchemaFile, "--grid", grid);

        Assert.True(code == CommandLine.UsageError, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"Pipeline:Training:GridPath (--grid): Grid file '{grid}': gradient_boosting: learning_rate", stderr);
        Assert.DoesNotContain("Training run", stderr); // refused before any work
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Artifacts")));
    }

    [Fact]
    public void Only_errors_of_the_settings_count_as_configuration_errors()
    {
        Assert.True(CommandLine.IsConfigurationError(new SettingException("Grid file 'g.yaml': …"), out var reason));
        Assert.Equal("Grid file 'g.yaml': …", reason);
        Assert.True(CommandLine.IsConfigurationError(new InvalidOperationException("Failed to convert configuration value 'x' at 'Pipeline:Seed' to type 'System.Int32'.", new FormatException("bad")), out _));
        Assert.True(CommandLine.IsConfigurationError(new AggregateException(new SettingException("wrapped")), out reason));
        Assert.Equal("wrapped", reason);

        // Thrown deep in a run, these are a bug or data the code does not handle.
        Assert.False(CommandLine.IsConfigurationError(new ArgumentOutOfRangeException("probabilities", double.NaN, "a probability is in [0, 1]."), out _));
        Assert.False(CommandLine.IsConfigurationError(new OverflowException("Arithmetic operation resulted in an overflow."), out _));
        Assert.False(CommandLine.IsConfigurationError(new FormatException("bad"), out _));
        Assert.False(CommandLine.IsConfigurationError(new InvalidOperationException("wrapped", new ArgumentException("inner")), out _));
    }

    [Fact]
    public void A_grid_problem_found_while_the_search_runs_is_a_setting_error_and_a_data_problem_is_not_blamed_on_the_grid()
    {
        using var dir = new TempDirectory();
        var bad = dir.File("bad.yaml", "learners:\n  logistic_regression:\n    c: [-1]\n");
        var rows = Pipeline.Data.DatasetParser.Parse(Pipeline.DataSources.CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 200)), Pipeline.Schema.SchemaLoader.Load(TestPaths.SchemaFile), true, false).Valid;
        var trainer = new Pipeline.Training.GridSearchTrainer(bad, 3, "roc_auc", 1);
        var setting = Assert.Throws<SettingException>(() => trainer.Train(rows.Features, rows.Labels, null, null, CancellationToken.None));
        Assert.StartsWith($"Grid file '{bad}': logistic_regression:", setting.Message);

        // One label short is the caller's bug, not "Grid file '…': 200 rows but 199 labels".
        var good = new Pipeline.Training.GridSearchTrainer(TestPaths.GridFile, 3, "roc_auc", 1, "logistic_regression");
        var bug = Assert.ThrowsAny<ArgumentException>(() => good.Train(rows.Features, rows.Labels[..^1], null, null, CancellationToken.None));
        Assert.DoesNotContain("Grid file", bug.Message, StringComparison.Ordinal);
    }
}
