using System.Globalization;
using System.Text.Json;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class TrainingPipelineTests
{
    [Fact]
    public async Task A_run_cancelled_after_training_is_not_promoted()
    {
        // Ctrl+C (or the service's shutdown) during evaluation still promoted the model and ended the train command
        // with exit code 0: the token was last looked at while training.
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 600));
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAt(PipelineStage.Evaluation, cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PipelineFactory.Create(options).RunAsync(progress, cancel.Token));

        Assert.True(progress.Reached);
        Assert.Null(new ModelStore(options.FinalModelDirectory).CurrentVersion);
        Assert.False(Directory.Exists(options.FinalModelDirectory) && Directory.EnumerateFileSystemEntries(options.FinalModelDirectory).Any());
    }

    /// <summary>Cancels when the run reports <paramref name="stage"/>, on the run's own thread.</summary>
    private sealed class CancelAt(PipelineStage stage, CancellationTokenSource cancel) : IProgress<PipelineProgress>
    {
        public bool Reached { get; private set; }

        public void Report(PipelineProgress value)
        {
            if (value.Stage == stage)
            {
                Reached = true;
                cancel.Cancel();
            }
        }
    }

    [Fact]
    public async Task Runs_every_stage_and_promotes_a_model_that_reloads_identically()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1500));
        var result = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);

        var root = result.ArtifactDirectory;
        Assert.Matches(@"^\d{8}_\d{6}$", result.RunId);
        foreach (var file in new[]
        {
            "data_ingestion/feature_store/sample.csv", "data_ingestion/train.csv", "data_ingestion/test.csv", "data_ingestion/report.yaml",
            "data_validation/report.yaml", "data_validation/drift_report/report.yaml",
            "data_transformation/preprocessor.bin", "data_transformation/transformed/train.csv", "data_transformation/transformed/test.csv",
            "model_trainer/model.bin", "model_trainer/leaderboard.csv", "model_trainer/leaderboard.json",
            "model_evaluation/metrics.json",
        })
        {
            Assert.True(File.Exists(Path.Combine(root, file)), $"missing artifact {file}");
        }

        Assert.Equal(1200, File.ReadLines(Path.Combine(root, "data_ingestion/train.csv")).Count() - 1);
        Assert.Equal(300, File.ReadLines(Path.Combine(root, "data_ingestion/test.csv")).Count() - 1);
        var drift = File.ReadAllText(Path.Combine(root, "data_validation/drift_report/report.yaml"));
        Assert.Contains("having_IP_Address:", drift);
        Assert.Contains("p_value:", drift);

        Assert.Equal(result.RunId, result.PromotedVersion);
        var store = new ModelStore(options.FinalModelDirectory);
        Assert.Equal(result.RunId, store.CurrentVersion);
        Assert.True(File.Exists(Path.Combine(store.CurrentModelDirectory!, "model_card.json")));
        Assert.True(result.Evaluation.Test.Legitimate.F1 > 0.9, $"F1 {result.Evaluation.Test.Legitimate.F1}");

        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var bundle = store.LoadCurrent(schema)!;
        Assert.Equal(result.RunId, bundle.Version);
        Assert.Equal(result.Evaluation.Test.Legitimate.F1, bundle.Card.Test!.Legitimate.F1);

        // The model in model_trainer/ and the promoted bundle score the test rows identically.
        var test = Data.DatasetParser.Parse(CsvTableReader.ReadFile(Path.Combine(root, "data_ingestion/test.csv")), schema, true, false).Valid;
        var fromBundle = new double[test.Count];
        bundle.PredictProbabilities(test.Features, fromBundle);
        var trained = Learning.Serialization.ModelSerializer.FromBytes(File.ReadAllBytes(Path.Combine(root, "model_trainer/model.bin")));
        var fromTrainer = new double[test.Count];
        trained.PredictProbabilities(test.Features, fromTrainer);
        Assert.Equal(fromTrainer, fromBundle);
    }

    [Fact]
    public async Task Too_few_rows_of_a_class_for_the_folds_is_said_naming_the_data_before_imputation()
    {
        // Twelve rows (four legitimate): ten training rows cannot fill five stratified folds with both classes. The search
        // said so only after imputing every row, naming no file, where the one-class refusal before it names the data.
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 12, "twelve.csv"));
        var trainer = new GridSearchTrainer(TestPaths.GridFile, 5, "roc_auc", options.Seed, "decision_tree");

        var ex = await Assert.ThrowsAsync<PipelineException>(() => PipelineFactory.Create(options, trainer).RunAsync(null, CancellationToken.None));

        Assert.StartsWith($"{options.DataPath}: The smaller class has ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("too few for 5-fold cross-validation", ex.Message, StringComparison.Ordinal);
        var run = Directory.GetDirectories(options.ArtifactsRoot).Single();
        Assert.True(File.Exists(Path.Combine(run, "data_validation", "report.yaml")));
        Assert.False(File.Exists(Path.Combine(run, "data_transformation", "preprocessor.bin"))); // refused before the imputer
    }

    [Fact]
    public async Task A_run_that_fails_the_quality_gate_keeps_the_previous_model()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 800));
        var first = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.NotNull(first.PromotedVersion);

        options.ExpectedScore = 0.9999;
        var second = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.Null(second.PromotedVersion);
        Assert.Contains("below the expected score", second.Evaluation.RejectionReason);
        Assert.Equal(first.RunId, new ModelStore(options.FinalModelDirectory).CurrentVersion);
    }

    [Fact]
    public async Task A_search_ranked_by_AUC_reports_each_entry_s_CV_F1_and_gates_on_the_winner_s_F1_without_a_hold_out()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1500));
        options.TestFraction = 0;
        var grid = dir.File("grid.yaml", "learners:\n  gradient_boosting:\n    max_depth: [3]\n    n_estimators: [5, 40]\n  logistic_regression:\n    c: [1.0]\n");
        var result = await PipelineFactory.Create(options, new GridSearchTrainer(grid, 3, "roc_auc", options.Seed, dropMargin: 0)).RunAsync(null, CancellationToken.None);

        var rows = File.ReadLines(Path.Combine(result.ArtifactDirectory, "model_trainer/leaderboard.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(3, rows.Length);
        var auc = rows.Select(r => double.Parse(r[^6], CultureInfo.InvariantCulture)).ToArray();
        var f1 = rows.Select(r => double.Parse(r[^1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(auc.OrderDescending(), auc);
        Assert.All(f1, v => Assert.InRange(v, 0.5, 1.0));
        Assert.NotEqual(auc, f1);
        Assert.Equal(auc[0], result.CvScore);
        using (var board = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.ArtifactDirectory, "model_trainer/leaderboard.json"))))
        {
            Assert.Equal(f1, board.RootElement.EnumerateArray().Select(e => e.GetProperty("cv_f1").GetDouble()));
        }

        // The gate (no test rows) compared the winner's CV F1, not its AUC, with the expected score.
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.ArtifactDirectory, "model_evaluation/metrics.json")));
        var gate = metrics.RootElement.GetProperty("quality_gate");
        Assert.Equal("cross-validated F1", gate.GetProperty("gated_on").GetString());
        Assert.Equal(f1[0], gate.GetProperty("estimate").GetDouble(), 12);
        var card = new ModelStore(options.FinalModelDirectory).LoadCurrent(SchemaLoader.Load(TestPaths.SchemaFile))!.Card;
        Assert.Equal("roc_auc", card.CvScoring);
        Assert.Equal<double?>(auc[0], card.CvScore);
        Assert.Equal<double?>(f1[0], card.CvF1);
        Assert.Contains("gated on the cross-validated F1", card.Holdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_model_card_names_the_grid_entry_the_model_came_from()
    {
        // Two entries of one learner: the card said only "gradient_boosting", not which of them won.
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1500));
        var grid = dir.File("grid.yaml", "learners:\n  tiny_boost:\n    learner: gradient_boosting\n    max_depth: [1]\n    n_estimators: [2]\n  larger_boost:\n    learner: gradient_boosting\n    max_depth: [3]\n    n_estimators: [60]\n");
        var result = await PipelineFactory.Create(options, new GridSearchTrainer(grid, 3, "roc_auc", options.Seed, dropMargin: 0)).RunAsync(null, CancellationToken.None);
        var winner = File.ReadLines(Path.Combine(result.ArtifactDirectory, "model_trainer/leaderboard.csv")).Skip(1).First().Split(',')[1];
        Assert.Equal("gradient_boosting (larger_boost)", winner);
        var card = new ModelStore(options.FinalModelDirectory).LoadCurrent(SchemaLoader.Load(TestPaths.SchemaFile))!.Card;
        Assert.Equal(("gradient_boosting", "larger_boost"), (card.Learner, card.GridEntry));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(options.FinalModelDirectory, result.PromotedVersion!, ModelStore.CardFileName)));
        Assert.Equal("larger_boost", json.RootElement.GetProperty("grid_entry").GetString());
    }

    [Fact]
    public async Task Without_a_hold_out_every_row_trains_and_the_gate_uses_the_cross_validated_score()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1500));
        options.TestFraction = 0;
        var result = await PipelineFactory.Create(options, new GradientBoostingTrainer(options.Seed, crossValidationFolds: 5)).RunAsync(null, CancellationToken.None);

        Assert.Equal(1500, File.ReadLines(Path.Combine(result.ArtifactDirectory, "data_ingestion/train.csv")).Count() - 1);
        Assert.Single(File.ReadLines(Path.Combine(result.ArtifactDirectory, "data_ingestion/test.csv"))); // the header only
        Assert.InRange(result.CvScore, 0.85, 1.0);
        Assert.NotNull(result.PromotedVersion);
        var card = new ModelStore(options.FinalModelDirectory).LoadCurrent(SchemaLoader.Load(TestPaths.SchemaFile))!.Card;
        Assert.Equal((1500, 0), (card.TrainRows, card.TestRows));
        Assert.StartsWith("none", card.Holdout, StringComparison.Ordinal);
        Assert.Null(card.Test); // no test metrics, rather than NaN ones
        Assert.Equal(result.CvScore, card.CvScore);
        var metrics = File.ReadAllText(Path.Combine(result.ArtifactDirectory, "model_evaluation/metrics.json"));
        Assert.Contains("cross-validated F1", metrics, StringComparison.Ordinal);
        using (var parsed = JsonDocument.Parse(metrics))
        {
            Assert.Equal(JsonValueKind.Null, parsed.RootElement.GetProperty("test").ValueKind);
        }

        Assert.DoesNotContain("NaN", metrics, StringComparison.Ordinal);

        // The gate compares the CV estimate, not a (missing) test score, with the expected score.
        options.ExpectedScore = 0.9999;
        var rejected = await PipelineFactory.Create(options, new GradientBoostingTrainer(options.Seed, crossValidationFolds: 5)).RunAsync(null, CancellationToken.None);
        Assert.Null(rejected.PromotedVersion);
        Assert.StartsWith("cross-validated F1", rejected.Evaluation.RejectionReason, StringComparison.Ordinal);
        Assert.Contains("below the expected score 0.9999", rejected.Evaluation.RejectionReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stratified_split_is_deterministic_disjoint_and_keeps_the_label_balance()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 2000);
        var a = await Split(dir, data, "stratified", seed: 7);
        var b = await Split(dir, data, "stratified", seed: 7);
        var c = await Split(dir, data, "stratified", seed: 8);

        Assert.Equal(a.Train, b.Train);
        Assert.NotEqual(a.Test, c.Test);
        Assert.Equal(400, a.Test.Count);
        Assert.Empty(a.Train.Intersect(a.Test)); // locations are unique per row
        var all = DataLabels(data);
        var testShare = a.TestLabels.Count(l => l == 1) / (double)a.TestLabels.Length;
        var allShare = all.Count(l => l == 1) / (double)all.Length;
        Assert.InRange(testShare, allShare - 0.01, allShare + 0.01);
    }

    [Fact]
    public async Task Rows_without_missing_cells_are_not_copied_by_the_transformation_and_rows_with_them_are_imputed_into_a_copy()
    {
        // The imputer's answer for rows with nothing missing is a copy of them: the parsed matrix is shared instead (240
        // bytes a row less for the rest of the run); with missing cells the parsed rows keep them, the copy is filled.
        using var dir = new TempDirectory();
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var complete = await Transform(PipelineFactory.Sample(dir, 400), 0);
        Assert.Same(complete.Ingestion.Train.Features, complete.Result.Train);
        Assert.Same(complete.Ingestion.Test.Features, complete.Result.Test);

        var lines = File.ReadAllLines(PipelineFactory.Sample(dir, 400));
        var holes = Path.Combine(dir.Path, "holes.csv");
        File.WriteAllLines(holes, lines.Select((l, i) => i > 0 && i % 7 == 0 ? "," + l[(l.IndexOf(',', StringComparison.Ordinal) + 1)..] : l));
        var imputed = await Transform(holes, 1);
        Assert.NotSame(imputed.Ingestion.Train.Features, imputed.Result.Train);
        Assert.True(imputed.Result.ImputedTrainCells > 0 && imputed.Result.ImputedTestCells > 0);
        Assert.Equal(imputed.Result.ImputedTrainCells, imputed.Ingestion.Train.MissingCount(0));
        Assert.DoesNotContain(imputed.Result.Train.Values, double.IsNaN);
        Assert.DoesNotContain(imputed.Result.Test.Values, double.IsNaN);

        async Task<(Stages.IngestionResult Ingestion, Stages.TransformationResult Result)> Transform(string data, int run)
        {
            var options = PipelineFactory.Options(dir, data);
            var layout = Artifacts.ArtifactLayout.Create(options.ArtifactsRoot, DateTimeOffset.UtcNow.AddSeconds(run));
            var ingestion = await new Stages.DataIngestionStage(new CsvDataSource(data), schema, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
                .RunAsync(layout, CancellationToken.None);
            return (ingestion, new Stages.DataTransformationStage(schema, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Run(layout, ingestion));
        }
    }

    [Fact]
    public async Task Grouped_split_never_puts_a_copy_of_a_test_row_in_training()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, TestPaths.DataFile);
        options.Split = "grouped";
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var layout = Artifacts.ArtifactLayout.Create(options.ArtifactsRoot, DateTimeOffset.UtcNow);
        var ingestion = await new Stages.DataIngestionStage(new CsvDataSource(options.DataPath), schema, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
            .RunAsync(layout, CancellationToken.None);

        var trainVectors = Enumerable.Range(0, ingestion.Train.Count).Select(r => Key(ingestion.Train.Features, r)).ToHashSet();
        Assert.DoesNotContain(Enumerable.Range(0, ingestion.Test.Count), r => trainVectors.Contains(Key(ingestion.Test.Features, r)));
        Assert.InRange(ingestion.Test.Count, 2000, 2400);
        Assert.Equal(5270, ingestion.Duplicates.DuplicateRows);
    }

    [Theory]
    [InlineData("missing.csv", null, "does not exist")]
    [InlineData("empty.csv", "", "empty")]
    [InlineData("header.csv", "HEADER", "no data rows")]
    [InlineData("semicolon.csv", "a;b;c\n1;2;3\n", "comma- or tab-separated")]
    [InlineData("missing_column.csv", "DROP_FIRST", "missing column(s): having_IP_Address")]
    [InlineData("unknown_column.csv", "EXTRA", "unknown column(s): colour")]
    [InlineData("not_a_number.csv", "CELL:abc", "line 3, column 6 (Prefix_Suffix): 'abc' is not a number")]
    [InlineData("out_of_domain.csv", "CELL:7", "line 3, column 6 (Prefix_Suffix): 7 is not an allowed value")]
    public async Task Bad_input_fails_with_file_line_and_column_and_leaves_final_model_alone(string name, string? contents, string expected)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, name);
        var header = string.Join(',', SchemaLoader.Load(TestPaths.SchemaFile).FeatureNames.Append("Result"));
        var good = string.Join(',', Enumerable.Repeat("1", 31));
        switch (contents)
        {
            case null:
                break;
            case "HEADER":
                File.WriteAllText(path, header + "\n");
                break;
            case "DROP_FIRST":
                File.WriteAllText(path, string.Join(',', header.Split(',').Skip(1)) + "\n" + string.Join(',', Enumerable.Repeat("1", 30)) + "\n");
                break;
            case "EXTRA":
                File.WriteAllText(path, header + ",colour\n" + good + ",red\n");
                break;
            case var cell when cell.StartsWith("CELL:", StringComparison.Ordinal):
                var bad = string.Join(',', Enumerable.Range(0, 31).Select(i => i == 5 ? cell[5..] : "1"));
                File.WriteAllText(path, $"{header}\n{good}\n{bad}\n{good}\n");
                break;
            default:
                File.WriteAllText(path, contents);
                break;
        }

        var options = PipelineFactory.Options(dir, path);
        var ex = await Assert.ThrowsAsync<PipelineException>(() => PipelineFactory.Create(options).RunAsync(null, CancellationToken.None));
        Assert.Contains(name, ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Null(new ModelStore(options.FinalModelDirectory).CurrentVersion);
    }

    [Fact]
    public async Task Invalid_rows_are_set_aside_with_their_reason()
    {
        using var dir = new TempDirectory();
        var sample = PipelineFactory.Sample(dir, 400);
        var lines = File.ReadAllLines(sample);
        lines[10] = "x" + lines[10][lines[10].IndexOf(',', StringComparison.Ordinal)..];
        lines[20] = lines[20][..lines[20].LastIndexOf(',')]; // one field short: an invalid row like the other, set aside
        lines[30] += new string(',', 40); // 40 fields too many
        File.WriteAllLines(sample, lines);
        var options = PipelineFactory.Options(dir, sample);
        options.MaxInvalidRowFraction = 0.01;

        var result = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        var invalid = File.ReadAllText(Path.Combine(result.ArtifactDirectory, "data_validation/invalid/invalid_records.csv"));
        Assert.Contains("line 11", invalid);
        Assert.Contains("column 1 (having_IP_Address): 'x' is not a number", invalid);
        Assert.Contains("line 21,30 fields but the header has 31", invalid);
        Assert.Contains("line 31,71 fields but the header has 31", invalid);
        Assert.Equal(397, File.ReadLines(Path.Combine(result.ArtifactDirectory, "data_ingestion/train.csv")).Count() - 1
            + File.ReadLines(Path.Combine(result.ArtifactDirectory, "data_ingestion/test.csv")).Count() - 1);
        // The feature store keeps the input as read, the short and the long line included.
        Assert.Equal(401, File.ReadLines(Directory.GetFiles(Path.Combine(result.ArtifactDirectory, "data_ingestion/feature_store")).Single()).Count());
    }

    private static string Key(FeatureMatrix m, int row) => string.Join(',', m.Row(row).ToArray());

    private static int[] DataLabels(string path) =>
        Data.DatasetParser.Parse(CsvTableReader.ReadFile(path), SchemaLoader.Load(TestPaths.SchemaFile), true, false).Valid.Labels;

    private static async Task<(List<string> Train, List<string> Test, int[] TestLabels)> Split(TempDirectory dir, string data, string split, int seed)
    {
        var options = PipelineFactory.Options(dir, data);
        options.Split = split;
        options.Seed = seed;
        options.ArtifactsRoot = Path.Combine(dir.Path, "split-" + Guid.NewGuid().ToString("N"));
        var layout = Artifacts.ArtifactLayout.Create(options.ArtifactsRoot, DateTimeOffset.UtcNow);
        var ingestion = await new Stages.DataIngestionStage(new CsvDataSource(data), SchemaLoader.Load(TestPaths.SchemaFile), options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
            .RunAsync(layout, CancellationToken.None);
        return ([.. ingestion.Train.Locations], [.. ingestion.Test.Locations], ingestion.Test.Labels);
    }
}
