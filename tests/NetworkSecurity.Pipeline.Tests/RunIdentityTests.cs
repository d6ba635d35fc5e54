using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>Runs never share a name, a promoted version is never silently replaced, and a test split that cannot judge a model does not promote it.</summary>
public sealed class RunIdentityTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Runs_of_one_second_get_their_own_folders_and_avoid_promoted_version_names()
    {
        using var dir = new TempDirectory();
        var first = ArtifactLayout.Create(dir.Path, Noon);
        var second = ArtifactLayout.Create(dir.Path, Noon);
        Assert.Equal("20261126_120000", first.Timestamp);
        Assert.Equal("20261126_120000_1", second.Timestamp);
        Assert.True(File.Exists(Path.Combine(first.Root, ArtifactLayout.ClaimFileName)));

        // A folder made by another process between the check and the claim: its marker is there, so the next name is taken.
        Directory.CreateDirectory(Path.Combine(dir.Path, "other"));
        var taken = ArtifactLayout.Create(Path.Combine(dir.Path, "other"), Noon, version => version is "20261126_120000" or "20261126_120000_1");
        Assert.Equal("20261126_120000_2", taken.Timestamp);
    }

    [Fact]
    public async Task Promoting_a_version_that_is_already_there_fails_and_keeps_the_first()
    {
        using var dir = new TempDirectory();
        var trained = await ModelStoreIntegrityTests.TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(trained);
        var card = File.ReadAllText(Path.Combine(store.Directory, trained.Version, ModelStore.CardFileName));
        var again = new ModelBundle(trained.SchemaFingerprint, trained.FeatureNames, trained.Imputer, trained.Classifier, trained.Card with { Seed = trained.Card.Seed + 1 });
        var ex = Assert.Throws<PipelineException>(() => store.Promote(again));
        Assert.Contains("already holds a promoted model", ex.Message);
        Assert.Equal(card, File.ReadAllText(Path.Combine(store.Directory, trained.Version, ModelStore.CardFileName)));
        Assert.Empty(Directory.GetDirectories(store.Directory, ".staging*"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("../../elsewhere")]
    public async Task An_empty_missing_or_unusable_current_pointer_falls_back_to_the_newest_valid_version(string? pointer)
    {
        using var dir = new TempDirectory();
        var trained = await ModelStoreIntegrityTests.TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(new ModelBundle(trained.SchemaFingerprint, trained.FeatureNames, trained.Imputer, trained.Classifier, trained.Card with { Version = "20260101_000000" }));
        store.Promote(new ModelBundle(trained.SchemaFingerprint, trained.FeatureNames, trained.Imputer, trained.Classifier, trained.Card with { Version = "20260102_000000" }));
        var current = Path.Combine(store.Directory, "CURRENT");
        if (pointer is null)
        {
            File.Delete(current);
        }
        else
        {
            File.WriteAllText(current, pointer);
        }

        var result = store.LoadLatestValid(SchemaLoader.Load(TestPaths.SchemaFile));
        Assert.Equal("20260102_000000", result.Bundle?.Version);
        Assert.True(result.IsFallback);
        Assert.Contains("CURRENT", result.Skipped[0].Reason);
        Assert.Empty(new ModelStore(Path.Combine(dir.Path, "nothing")).LoadLatestValid(null).Skipped);
    }

    [Fact]
    public void Run_folders_beyond_the_newest_kept_are_removed_and_nothing_else()
    {
        using var dir = new TempDirectory();
        string[] runs = ["20260101_000001", "20260101_000002", "20260101_000002_1", "20260102_000000", "20260103_120000"];
        foreach (var run in runs)
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, run, "model_trainer"));
        }

        Directory.CreateDirectory(Path.Combine(dir.Path, "notes"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "2026"));
        File.WriteAllText(Path.Combine(dir.Path, "20251231_000000"), "a file, not a run");

        // 20260101_000001 is another process's run still going (it holds its claim): it stays.
        File.WriteAllText(Path.Combine(dir.Path, "20260101_000001", ArtifactLayout.ClaimFileName), "");
        Assert.Empty(ArtifactLayout.PruneOldRuns(dir.Path, keep: 0));
        Assert.Equal(["20260101_000002"], ArtifactLayout.PruneOldRuns(dir.Path, keep: 3));
        Assert.Equal(["2026", "20260101_000001", "20260101_000002_1", "20260102_000000", "20260103_120000", "notes"],
            Directory.GetDirectories(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(dir.Path, "20251231_000000")));
        Assert.Empty(ArtifactLayout.PruneOldRuns(Path.Combine(dir.Path, "missing"), keep: 1));
    }

    /// <summary>A one-model run on 400 legitimate rows of the data set and <paramref name="phishing"/> phishing ones.</summary>
    private static PipelineOptions SkewedGbdtRun(TempDirectory dir, int phishing)
    {
        var lines = File.ReadAllLines(TestPaths.DataFile);
        var data = dir.File("skewed.csv", string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where(l => l.EndsWith(",1", StringComparison.Ordinal)).Take(400))
            .Concat(lines.Skip(1).Where(l => l.EndsWith(",-1", StringComparison.Ordinal)).Take(phishing))));
        var options = PipelineFactory.Options(dir, data);
        options.OverfittingThreshold = 1;
        options.Training.Mode = "gbdt";
        return options;
    }

    [Fact]
    public async Task A_test_split_with_one_class_or_no_rows_does_not_promote()
    {
        using var dir = new TempDirectory();
        // 400 legitimate rows and 2 phishing ones: a stratified 20 % test split gets no phishing row.
        var options = SkewedGbdtRun(dir, phishing: 2);
        var oneClass = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.Null(oneClass.PromotedVersion);
        Assert.Contains("hold one class only", oneClass.Evaluation.RejectionReason);

        options.TestFraction = 1e-9;
        var empty = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.Null(empty.PromotedVersion);
        Assert.Contains("the test split is empty", empty.Evaluation.RejectionReason);
        Assert.Null(new ModelStore(options.FinalModelDirectory).CurrentVersion);
    }

    [Fact]
    public async Task A_grouped_split_of_one_feature_vector_is_said_to_need_more_distinct_rows_not_a_larger_test_fraction()
    {
        // 100 copies of one vector, labels alternating: every copy goes to one side, so the test split is empty whatever
        // the fraction, and the advice was "give a larger --test-fraction".
        using var dir = new TempDirectory();
        var lines = File.ReadAllLines(TestPaths.DataFile);
        var vector = lines[1][..lines[1].LastIndexOf(',')];
        var data = dir.File("one-vector.csv", string.Join('\n', lines.Take(1).Concat(Enumerable.Range(0, 100).Select(i => $"{vector},{(i % 2 == 0 ? 1 : -1)}"))));
        var options = PipelineFactory.Options(dir, data);
        options.Split = "grouped";
        options.Training.Mode = "gbdt";
        var run = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.Null(run.PromotedVersion);
        Assert.Contains("the test split is empty (0.2 of 100 rows): with --split grouped every copy of a feature vector stays on one side", run.Evaluation.RejectionReason, StringComparison.Ordinal);
        Assert.DoesNotContain("give a larger --test-fraction", run.Evaluation.RejectionReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Labels_with_no_signal_do_not_promote_a_model_that_calls_every_site_legitimate()
    {
        using var dir = new TempDirectory();
        // The bundled records with their labels shuffled: the search chose a few shallow trees at learning rate 0.01,
        // which call every site legitimate, and their test F1 (0.715, from the legitimate share alone) passed the
        // expected score 0.6: a model that never flags phishing went live.
        var lines = File.ReadAllLines(TestPaths.DataFile);
        var labels = lines.Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..]).ToArray();
        new Random(11).Shuffle(labels);
        var data = dir.File("shuffled.csv", string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Select((l, i) => l[..(l.LastIndexOf(',') + 1)] + labels[i]))));
        var grid = dir.File("grid.yaml", "learners:\n  gradient_boosting:\n    learning_rate: [0.01]\n    subsample: [0.9]\n    n_estimators: [8]\n    max_depth: [3]\n");
        var options = PipelineFactory.Options(dir, data);
        var run = await PipelineFactory.Create(options, new GridSearchTrainer(grid, 5, "roc_auc", options.Seed)).RunAsync(null, CancellationToken.None);

        Assert.Equal(1.0, run.Evaluation.Test.Legitimate.Recall); // every site called legitimate
        Assert.InRange(run.Evaluation.Test.Legitimate.F1, options.ExpectedScore, 1);
        Assert.Null(run.PromotedVersion);
        Assert.Matches(@"^test F1 0\.7\d{3} is no better than calling every site legitimate \(0\.7\d{3} on the same rows\): the model does not tell phishing sites apart$", run.Evaluation.RejectionReason);
        Assert.Null(new ModelStore(options.FinalModelDirectory).CurrentVersion);
        Assert.Contains("\"all_legitimate_f1\": 0.7", File.ReadAllText(Path.Combine(run.ArtifactDirectory, "model_evaluation", "metrics.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_score_resting_on_a_handful_of_one_class_does_not_promote()
    {
        using var dir = new TempDirectory();
        // 400 legitimate rows and 30 phishing ones: the stratified 20 % test split holds 6 phishing rows. A model
        // trained on three phishing rows among 4,920 passed the gate this way (test F1 0.9995) and missed most of them.
        var options = SkewedGbdtRun(dir, phishing: 30);
        var few = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.Null(few.PromotedVersion);
        Assert.Equal("the 86 test rows hold 6 phishing row(s), fewer than the 10 of each class a score needs to judge the model (Pipeline:MinRowsPerClassToJudge); give more phishing rows or a larger --test-fraction",
            few.Evaluation.RejectionReason);

        options.MinRowsPerClassToJudge = 6;
        Assert.NotNull((await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None)).PromotedVersion);

        // Without a hold-out the cross-validated estimate rests on the training rows: 30 phishing rows are enough for
        // 10, not for 40.
        options.TestFraction = 0;
        options.MinRowsPerClassToJudge = 40;
        var noHoldout = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Assert.StartsWith("the 430 training rows the cross-validation scores hold 30 phishing row(s), fewer than the 40", noHoldout.Evaluation.RejectionReason);
    }

    [Fact]
    public void A_scoring_parser_leaves_the_label_column_alone_and_header_clashes_are_located()
    {
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var header = File.ReadLines(TestPaths.DataFile).First().Split(',');
        var mapping = ColumnMapping.Resolve(schema, header, "x.csv");
        var values = File.ReadLines(TestPaths.DataFile).Skip(1).First().Split(',').Select(v => (string?)v).ToArray();
        values[^1] = "not a label";
        var features = new double[schema.Features.Count];
        var problems = new List<DataProblem>();
        Assert.True(new RecordParser(schema, mapping, "x.csv", readLabel: false).TryParse(new DataSources.RawRecord("line 2", values), features, out _, problems));
        Assert.False(new RecordParser(schema, mapping, "x.csv").TryParse(new DataSources.RawRecord("line 2", values), features, out _, problems));
        Assert.Equal("x.csv, line 2, column 31 (Result): 'not a label' is not a class of the target (allowed: -1, 1).", Assert.Single(problems).ToString());

        var ex = Assert.Throws<PipelineException>(() => ColumnMapping.Resolve(schema, [.. header, "port_no"], "x.csv"));
        Assert.Equal("x.csv, line 1, column 32 (port): columns 11 ('port') and 32 ('port_no') both map to feature 'port'.", ex.Message);
        var problem = Assert.Single(ex.Problems);
        Assert.Equal((32, "port"), (problem.Column!.Value, problem.Field!));
    }
}
