using Microsoft.ML;
using Microsoft.ML.Data;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class MLNetPipelineTests
{
    [Fact]
    public async Task An_MLNet_winner_is_promoted_as_MLNet_zip_that_a_plain_MLNet_app_loads()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1500));
        options.OverfittingThreshold = 1.0; // a small sample overfits; this test is about the model files
        var trainer = new GridSearchTrainer(TestPaths.GridFile, 3, "f1", options.Seed, learners: "fasttree");
        var result = await PipelineFactory.Create(options, trainer).RunAsync(null, CancellationToken.None);

        var store = new ModelStore(options.FinalModelDirectory);
        Assert.Equal(result.RunId, store.CurrentVersion);
        var folder = store.CurrentModelDirectory!;
        Assert.True(File.Exists(Path.Combine(folder, ModelBundle.MLNetModelFileName)));
        Assert.True(File.Exists(Path.Combine(result.ArtifactDirectory, "model_trainer", ModelBundle.MLNetModelFileName)));
        var leaderboard = File.ReadAllLines(Path.Combine(result.ArtifactDirectory, "model_trainer", "leaderboard.csv"));
        Assert.EndsWith(",cv_mean,cv_std,fit_seconds,engine,cv_folds,cv_f1", leaderboard[0], StringComparison.Ordinal);
        Assert.All(leaderboard[1..], line =>
        {
            var cells = line.Split(',');
            Assert.Equal(["ML.NET", "3"], cells[^3..^1]); // 3 folds: no racing
            Assert.Equal(cells[^6], cells[^1]); // ranked by F1 here, so the CV F1 column is the CV mean
        });

        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var bundle = store.LoadCurrent(schema)!;
        Assert.Equal("fasttree", bundle.Card.Learner);
        var model = Assert.IsType<MLNetModel>(bundle.Classifier);
        Assert.Equal(MLNetTrainer.FastTree, model.Trainer);
        var test = Data.DatasetParser.Parse(CsvTableReader.ReadFile(Path.Combine(result.ArtifactDirectory, "data_ingestion/test.csv")), schema, true, false).Valid;
        var fromBundle = new double[test.Count];
        bundle.PredictProbabilities(test.Features, fromBundle);

        // The README's lines: any ML.NET app loads the zip with MLContext.Model.Load and gets the same probabilities.
        var ml = new MLContext();
        var loaded = ml.Model.Load(Path.Combine(folder, "model.zip"), out _);
        var engine = ml.Model.CreatePredictionEngine<Site, Verdict>(loaded);
        for (var i = 0; i < test.Count; i++)
        {
            var site = new Site { Features = test.Features.Row(i).ToArray().Select(v => (float)v).ToArray() };
            Assert.Equal(fromBundle[i], engine.Predict(site).Probability, 1e-7);
        }

        Assert.Equal(result.Evaluation.Test.Legitimate.F1, bundle.Card.Test!.Legitimate.F1);
        Assert.True(result.Evaluation.Test.Legitimate.F1 > 0.9, $"F1 {result.Evaluation.Test.Legitimate.F1}");

        // A zip that does not belong to the bundle is refused with a clear message.
        var zip = Path.Combine(folder, ModelBundle.MLNetModelFileName);
        var bytes = File.ReadAllBytes(zip);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(zip, bytes);
        var error = Assert.Throws<PipelineException>(() => store.LoadCurrent(schema));
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
        File.Delete(zip);
        var missing = Assert.Throws<PipelineException>(() => store.LoadCurrent(schema)).Message; // the integrity manifest names the missing file
        Assert.Contains(ModelBundle.MLNetModelFileName, missing, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_grid_ranks_FastTree_and_LightGBM_beside_our_learners()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 900));
        var data = Data.DatasetParser.Parse(CsvTableReader.ReadFile(options.DataPath), SchemaLoader.Load(TestPaths.SchemaFile), true, false).Valid;
        var trained = new GridSearchTrainer(TestPaths.GridFile, 3, "f1", 7).Train(data.Features, data.Labels, null, null, CancellationToken.None);

        Assert.Contains(trained.Leaderboard, e => e.Learner == "fasttree" && e.Engine == "ML.NET");
        Assert.Contains(trained.Leaderboard, e => e.Learner == "lightgbm" && e.Engine == "ML.NET");
        Assert.Contains(trained.Leaderboard, e => e.Learner.StartsWith("gradient_boosting", StringComparison.Ordinal) && e.Engine == "ours");
        Assert.Equal(Enumerable.Range(1, trained.Leaderboard.Count), trained.Leaderboard.Select(e => e.Rank));
        Assert.Equal(trained.Leaderboard.Select(e => e.CvMean).OrderDescending(), trained.Leaderboard.Select(e => e.CvMean));
        Assert.Empty(trained.Failures!);
        Assert.Equal(trained.Leaderboard[0].CvMean, trained.CvScore);
    }

    [Fact]
    public void Learners_that_are_unknown_or_missing_from_the_grid_fail_clearly()
    {
        using var dir = new TempDirectory();
        var data = Data.DatasetParser.Parse(CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 300)), SchemaLoader.Load(TestPaths.SchemaFile), true, false).Valid;
        var unknown = Assert.Throws<SettingException>(() => new GridSearchTrainer(TestPaths.GridFile, 3, "f1", 1, "fasttree,xgboost").Train(data.Features, data.Labels, null, null, CancellationToken.None));
        Assert.Contains("xgboost", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("--learners", unknown.Message, StringComparison.Ordinal);

        var grid = dir.File("grid.yaml", "learners:\n  logistic_regression:\n    c: [1.0]\n");
        var missing = Assert.Throws<SettingException>(() => new GridSearchTrainer(grid, 3, "f1", 1, "lightgbm").Train(data.Features, data.Labels, null, null, CancellationToken.None));
        Assert.Contains("no entry for learner(s) lightgbm", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Learners_take_an_entry_name_for_that_entry_alone_and_a_learner_name_for_all_its_entries()
    {
        using var dir = new TempDirectory();
        var data = Data.DatasetParser.Parse(CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 300)), SchemaLoader.Load(TestPaths.SchemaFile), true, false).Valid;
        var grid = dir.File("grid.yaml", "learners:\n  gradient_boosting:\n    n_estimators: [5]\n    max_depth: [2]\n  deep:\n    learner: gradient_boosting\n    n_estimators: [5]\n    max_depth: [4]\n  logistic_regression:\n    c: [1.0]\n");
        string[] Entries(string learners) =>
            [.. new GridSearchTrainer(grid, 3, "roc_auc", 1, learners).Train(data.Features, data.Labels, null, null, CancellationToken.None).Leaderboard.Select(e => e.Learner).Order()];

        Assert.Equal(["gradient_boosting (deep)"], Entries("deep")); // refused before: "unknown learner(s) deep"
        Assert.Equal(["gradient_boosting", "gradient_boosting (deep)"], Entries("gradient_boosting"));
        Assert.Equal(["gradient_boosting (deep)", "logistic_regression"], Entries("deep,logistic_regression"));
        var neither = Assert.Throws<SettingException>(() => Entries("shallow")); // a setting: a usage error, not a failed run
        Assert.Contains("shallow is neither a learner (", neither.Message, StringComparison.Ordinal);
        Assert.Contains("nor an entry of", neither.Message, StringComparison.Ordinal);
    }

    private sealed class Site
    {
        [VectorType(30)]
        public float[] Features { get; set; } = [];
    }

    private sealed class Verdict
    {
        public float Probability { get; set; }
    }
}
