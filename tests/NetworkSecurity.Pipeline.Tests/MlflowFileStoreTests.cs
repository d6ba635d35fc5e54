using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>The MLflow file store against the layout MLflow 2.x/3.x readers expect (see the README's MLflow section).</summary>
public sealed class MlflowFileStoreTests
{
    private static TrackedRun Run(string experiment, bool succeeded, string artifact) => new(
        experiment, "train-20261123_101500",
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_005_000), succeeded,
        new Dictionary<string, string> { ["user"] = "alice", ["dataset_sha256"] = "abc" },
        new Dictionary<string, string> { ["learner"] = "gradient_boosting", ["model.n_estimators"] = "600", ["long"] = new string('x', 7000) },
        new Dictionary<string, double> { ["test_f1"] = 0.97651, ["cv_f1_std"] = double.NaN },
        [new TrackedArtifact(artifact, "model_evaluation")]);

    [Fact]
    public async Task Writes_the_mlflow_file_store_layout()
    {
        using var dir = new TempDirectory();
        var artifact = dir.File("metrics.json", "{\"f1\": 0.97}");
        var tracker = new MlflowFileStoreTracker(Path.Combine(dir.Path, "mlruns"));
        var result = await tracker.TrackAsync(Run("NetworkSecurity", true, artifact), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var root = Path.Combine(dir.Path, "mlruns");
        Assert.True(Directory.Exists(Path.Combine(root, ".trash")));
        Assert.Contains("name: 'Default'", File.ReadAllText(Path.Combine(root, "0", "meta.yaml")));
        Assert.Contains("experiment_id: '0'", File.ReadAllText(Path.Combine(root, "0", "meta.yaml")));

        var experiment = Directory.GetDirectories(root).Select(Path.GetFileName).Single(n => n is not ("0" or ".trash"))!;
        Assert.Matches("^[1-9][0-9]{17}$", experiment);
        var experimentMeta = File.ReadAllText(Path.Combine(root, experiment, "meta.yaml"));
        Assert.Contains("name: 'NetworkSecurity'", experimentMeta);
        Assert.Contains($"experiment_id: '{experiment}'", experimentMeta);
        Assert.Contains("lifecycle_stage: active", experimentMeta);
        Assert.Contains($"artifact_location: file:///", experimentMeta);

        var run = Path.Combine(root, experiment, result.RunId!);
        var meta = File.ReadAllLines(Path.Combine(run, "meta.yaml"));
        Assert.Contains($"run_id: {result.RunId}", meta);
        Assert.Contains($"run_uuid: {result.RunId}", meta);
        Assert.Contains("status: 3", meta);
        Assert.Contains("start_time: 1700000000000", meta);
        Assert.Contains("end_time: 1700000005000", meta);
        Assert.Contains($"experiment_id: '{experiment}'", meta);
        Assert.Contains("user_id: 'alice'", meta);
        Assert.Matches("^[0-9a-f]{32}$", result.RunId);

        Assert.Equal("1700000005000 0.97651 0\n", File.ReadAllText(Path.Combine(run, "metrics", "test_f1")));
        Assert.Equal("1700000005000 NaN 0\n", File.ReadAllText(Path.Combine(run, "metrics", "cv_f1_std")));
        Assert.Equal("600", File.ReadAllText(Path.Combine(run, "params", "model.n_estimators")));
        Assert.Equal(6000, File.ReadAllText(Path.Combine(run, "params", "long")).Length);
        Assert.Equal("train-20261123_101500", File.ReadAllText(Path.Combine(run, "tags", "mlflow.runName")));
        Assert.Equal("LOCAL", File.ReadAllText(Path.Combine(run, "tags", "mlflow.source.type")));
        Assert.Equal("{\"f1\": 0.97}", File.ReadAllText(Path.Combine(run, "artifacts", "model_evaluation", "metrics.json")));
        Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Reuses_the_experiment_and_marks_failed_runs()
    {
        using var dir = new TempDirectory();
        var artifact = dir.File("a.txt", "x");
        var tracker = new MlflowFileStoreTracker(Path.Combine(dir.Path, "mlruns"));
        var first = await tracker.TrackAsync(Run("E", true, artifact), CancellationToken.None);
        var second = await tracker.TrackAsync(Run("E", false, artifact), CancellationToken.None);
        var experiments = Directory.GetDirectories(Path.Combine(dir.Path, "mlruns")).Select(Path.GetFileName).Where(n => n is not ("0" or ".trash")).ToArray();
        var experiment = Assert.Single(experiments);
        Assert.NotEqual(first.RunId, second.RunId);
        Assert.Contains("status: 4", File.ReadAllText(Path.Combine(dir.Path, "mlruns", experiment!, second.RunId!, "meta.yaml")));
    }

    [Theory]
    [InlineData("test_f1", true)]
    [InlineData("model.max_depth", true)]
    [InlineData("a/b", true)]
    [InlineData("a//b", false)]
    [InlineData("/a", false)]
    [InlineData("../x", false)]
    [InlineData("f1%", false)]
    [InlineData("", false)]
    public void Key_rules_follow_mlflow(string key, bool valid) => Assert.Equal(valid, MlflowFileStoreTracker.IsValidKey(key));

    [Fact]
    public async Task An_unwritable_store_is_reported_not_thrown()
    {
        using var dir = new TempDirectory();
        var blocker = dir.File("mlruns", "a file where the store should be");
        var result = await new MlflowFileStoreTracker(blocker).TrackAsync(Run("E", true, blocker), CancellationToken.None);
        Assert.False(result.Tracked);
        Assert.Contains("could not write the MLflow file store", result.Message);
    }

    [Fact]
    public void The_store_location_comes_from_the_tracking_uri()
    {
        Assert.EndsWith("mlruns", ((MlflowFileStoreTracker)MlflowFileStoreTracker.FromTrackingUri(null)).Root);
        Assert.Equal("/tmp/x/mlruns", ((MlflowFileStoreTracker)MlflowFileStoreTracker.FromTrackingUri("file:///tmp/x/mlruns")).Root);
        Assert.Throws<ArgumentException>(() => MlflowFileStoreTracker.FromTrackingUri("https://example.invalid/repo.mlflow"));
    }
}
