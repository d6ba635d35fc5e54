using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking.Tests;

/// <summary>
/// The MLflow file store against the layout MLflow 2.x/3.x write and read, starting from stores written the way MLflow
/// writes them: unquoted names, experiments with MLflow's ids, deleted experiments in .trash, other artifact locations.
/// </summary>
public sealed class MlflowFileStoreTests
{
    private static TrackedRun Run(string experiment, bool succeeded, string artifact) => new(
        experiment, "train-20261123_101500",
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_005_000), succeeded,
        new Dictionary<string, string> { ["user"] = "alice", ["dataset_sha256"] = "abc" },
        new Dictionary<string, string> { ["learner"] = "gradient_boosting", ["model.n_estimators"] = "600", ["long"] = new string('x', 7000) },
        new Dictionary<string, double> { ["test_f1"] = 0.97651, ["cv_f1_std"] = double.NaN },
        [new TrackedArtifact(artifact, "model_evaluation")]);

    /// <summary>An experiment folder exactly as MLflow's FileStore writes it (sorted keys, PyYAML quoting).</summary>
    private static void MlflowExperiment(string root, string id, string nameYaml, string lifecycle = "active", bool inTrash = false, string? artifactLocation = null)
    {
        var directory = inTrash ? Path.Combine(root, ".trash", id) : Path.Combine(root, id);
        Directory.CreateDirectory(Path.Combine(directory, "tags"));
        File.WriteAllText(Path.Combine(directory, "meta.yaml"),
            $"artifact_location: {artifactLocation ?? new Uri(Path.Combine(root, id)).AbsoluteUri}\ncreation_time: 1699999999000\nexperiment_id: '{id}'\n"
            + $"last_update_time: 1699999999000\nlifecycle_stage: {lifecycle}\nname: {nameYaml}\n");
    }

    private static string NewStore(TempDirectory dir)
    {
        var root = Path.Combine(dir.Path, "mlruns");
        Directory.CreateDirectory(Path.Combine(root, ".trash"));
        MlflowExperiment(root, "0", "Default");
        return root;
    }

    private static string[] Experiments(string root) =>
        Directory.GetDirectories(root).Select(Path.GetFileName).Where(n => n is not ("0" or ".trash")).Select(n => n!).ToArray();

    [Fact]
    public async Task Writes_the_mlflow_file_store_layout_as_mlflow_writes_it()
    {
        using var dir = new TempDirectory();
        var artifact = dir.File("metrics.json", "{\"f1\": 0.97}");
        var tracker = new MlflowFileStoreTracker(Path.Combine(dir.Path, "mlruns"));
        var result = await tracker.TrackAsync(Run("NetworkSecurity", true, artifact), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var root = Path.Combine(dir.Path, "mlruns");
        Assert.True(Directory.Exists(Path.Combine(root, ".trash")));
        var defaultMeta = File.ReadAllLines(Path.Combine(root, "0", "meta.yaml"));
        Assert.Contains("name: Default", defaultMeta);
        Assert.Contains("experiment_id: '0'", defaultMeta);

        var experiment = Assert.Single(Experiments(root));
        Assert.Matches("^[1-9][0-9]{17}$", experiment);
        var experimentMeta = File.ReadAllLines(Path.Combine(root, experiment, "meta.yaml"));
        Assert.Equal(
            ["artifact_location", "creation_time", "experiment_id", "last_update_time", "lifecycle_stage", "name"],
            experimentMeta.Select(l => l.Split(':')[0]));
        Assert.Contains("name: NetworkSecurity", experimentMeta); // unquoted, as MLflow writes it
        Assert.Contains($"experiment_id: '{experiment}'", experimentMeta);
        Assert.Contains("lifecycle_stage: active", experimentMeta);
        Assert.Contains($"artifact_location: {new Uri(Path.Combine(root, experiment)).AbsoluteUri}", experimentMeta);

        var run = Path.Combine(root, experiment, result.RunId!);
        var meta = File.ReadAllLines(Path.Combine(run, "meta.yaml"));
        Assert.Contains($"run_id: {result.RunId}", meta);
        Assert.Contains($"run_uuid: {result.RunId}", meta);
        Assert.Contains("status: 3", meta);
        Assert.Contains("start_time: 1700000000000", meta);
        Assert.Contains("end_time: 1700000005000", meta);
        Assert.Contains($"experiment_id: '{experiment}'", meta);
        Assert.Contains("user_id: alice", meta);
        Assert.Contains("run_name: train-20261123_101500", meta);
        Assert.Contains($"artifact_uri: {new Uri(Path.Combine(root, experiment)).AbsoluteUri}/{result.RunId}/artifacts", meta);
        Assert.Matches("^[0-9a-f]{32}$", result.RunId);

        Assert.Equal("1700000005000 0.97651 0\n", File.ReadAllText(Path.Combine(run, "metrics", "test_f1")));
        Assert.False(File.Exists(Path.Combine(run, "metrics", "cv_f1_std"))); // NaN is never written
        Assert.Contains("metric 'cv_f1_std' is NaN", result.Message);
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
        var experiment = Assert.Single(Experiments(Path.Combine(dir.Path, "mlruns")));
        Assert.NotEqual(first.RunId, second.RunId);
        Assert.Contains("status: 4", File.ReadAllText(Path.Combine(dir.Path, "mlruns", experiment, second.RunId!, "meta.yaml")));

        // A stopped run (cancelled, the service shutting down) is KILLED, not FAILED.
        var stopped = await tracker.TrackAsync(Run("E", false, artifact) with { Cancelled = true }, CancellationToken.None);
        Assert.Contains("status: 5", File.ReadAllText(Path.Combine(dir.Path, "mlruns", experiment, stopped.RunId!, "meta.yaml")));
    }

    [Fact]
    public async Task Finding_or_creating_the_experiment_waits_for_another_process_holding_the_store()
    {
        // Two processes (a CLI run beside the service) both found no experiment and created two of one name. The lock
        // is a file in the store's root; here this test holds it, as another process would.
        using var dir = new TempDirectory();
        var root = Path.Combine(dir.Path, "mlruns");
        Directory.CreateDirectory(root);
        var artifact = dir.File("a.txt", "x");
        var held = new FileStream(Path.Combine(root, ".experiments.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var tracking = Task.Run(() => new MlflowFileStoreTracker(root).TrackAsync(Run("E", true, artifact), CancellationToken.None));
        await Task.Delay(400);
        Assert.False(tracking.IsCompleted);
        Assert.Empty(Experiments(root));

        // The other process made the experiment meanwhile, then let go: this run joins it instead of making a second.
        MlflowExperiment(root, "77", "E");
        await held.DisposeAsync();
        var result = await tracking;
        Assert.True(result.Tracked, result.Message);
        Assert.Equal(["77"], Experiments(root));
        Assert.True(Directory.Exists(Path.Combine(root, "77", result.RunId!)));
    }

    [Theory]
    [InlineData("1", "NetworkSecurity")] // MLflow 2.x: sequential ids
    [InlineData("368204713659826161", "NetworkSecurity")] // MLflow 3.x: random ids
    [InlineData("5", "'NetworkSecurity'")] // written by an earlier version of this product
    [InlineData("6", "\"NetworkSecurity\"")] // edited by hand
    public async Task An_experiment_created_by_mlflow_is_used_not_duplicated(string id, string nameYaml)
    {
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        MlflowExperiment(root, id, nameYaml);
        MlflowExperiment(root, "2", "Other");
        var tracker = new MlflowFileStoreTracker(root);

        var result = await tracker.TrackAsync(Run("NetworkSecurity", true, dir.File("a.txt", "x")), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.Equal(new[] { id, "2" }.Order(StringComparer.Ordinal), Experiments(root).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(root, id, result.RunId!, "meta.yaml")));
        Assert.Contains($"experiment_id: '{id}'", File.ReadAllLines(Path.Combine(root, id, result.RunId!, "meta.yaml")));
    }

    [Fact]
    public async Task A_store_first_written_by_mlflow_then_used_by_the_product_holds_one_experiment_per_name()
    {
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        MlflowExperiment(root, "1", "NetworkSecurity");
        MlflowExperiment(root, "2", "'yes'"); // a name PyYAML must quote
        var tracker = new MlflowFileStoreTracker(root);
        foreach (var name in new[] { "NetworkSecurity", "yes", "it's: new", "NetworkSecurity", "it's: new", "yes" })
        {
            Assert.True((await tracker.TrackAsync(Run(name, true, dir.File("a.txt", "x")), CancellationToken.None)).Tracked);
        }

        var names = Experiments(root).Select(id => MlflowYaml.ReadMapping(Path.Combine(root, id, "meta.yaml"))!["name"]).ToArray();
        Assert.Equal(["NetworkSecurity", "it's: new", "yes"], names.Order(StringComparer.Ordinal));
        var created = Experiments(root).Single(id => id is not ("1" or "2"));
        Assert.Contains("name: 'it''s: new'", File.ReadAllLines(Path.Combine(root, created, "meta.yaml")));
    }

    [Fact]
    public async Task A_deleted_experiment_in_the_trash_keeps_its_name_and_the_run_says_how_to_restore_it()
    {
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        MlflowExperiment(root, "1", "NetworkSecurity", lifecycle: "deleted", inTrash: true);
        var result = await new MlflowFileStoreTracker(root).TrackAsync(Run("NetworkSecurity", true, dir.File("a.txt", "x")), CancellationToken.None);

        Assert.False(result.Tracked);
        Assert.Contains("experiment 'NetworkSecurity' (id 1) is deleted", result.Message);
        Assert.Contains("mlflow experiments restore --experiment-id 1", result.Message);
        Assert.Contains("MLFLOW_EXPERIMENT_NAME", result.Message);
        Assert.Empty(Experiments(root)); // no second experiment of that name
        Assert.Equal(["1"], Directory.GetDirectories(Path.Combine(root, ".trash")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task An_active_experiment_wins_over_a_deleted_one_of_the_same_name()
    {
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        MlflowExperiment(root, "1", "NetworkSecurity", lifecycle: "deleted", inTrash: true);
        MlflowExperiment(root, "3", "NetworkSecurity"); // what the old product left behind
        var result = await new MlflowFileStoreTracker(root).TrackAsync(Run("NetworkSecurity", true, dir.File("a.txt", "x")), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.True(Directory.Exists(Path.Combine(root, "3", result.RunId!)));
    }

    [Fact]
    public async Task New_ids_avoid_the_trash_and_a_deleted_default_experiment_is_not_recreated()
    {
        using var dir = new TempDirectory();
        var root = Path.Combine(dir.Path, "mlruns");
        MlflowExperiment(root, "0", "Default", lifecycle: "deleted", inTrash: true);
        var result = await new MlflowFileStoreTracker(root).TrackAsync(Run("E", true, dir.File("a.txt", "x")), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "0")));
        Assert.Single(Experiments(root));
    }

    [Fact]
    public async Task Artifacts_go_to_the_experiments_artifact_location_as_in_mlflow()
    {
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        var elsewhere = Path.Combine(dir.Path, "artifact-store", "1");
        MlflowExperiment(root, "1", "NetworkSecurity", artifactLocation: new Uri(elsewhere).AbsoluteUri);
        var result = await new MlflowFileStoreTracker(root).TrackAsync(Run("NetworkSecurity", true, dir.File("m.json", "{}")), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.Equal("{}", File.ReadAllText(Path.Combine(elsewhere, result.RunId!, "artifacts", "model_evaluation", "m.json")));
        Assert.Contains($"artifact_uri: {new Uri(elsewhere).AbsoluteUri}/{result.RunId}/artifacts", File.ReadAllLines(Path.Combine(root, "1", result.RunId!, "meta.yaml")));

        MlflowExperiment(root, "2", "Remote", artifactLocation: "s3://bucket/mlflow/2");
        var remote = await new MlflowFileStoreTracker(root).TrackAsync(Run("Remote", true, dir.File("m.json", "{}")), CancellationToken.None);
        Assert.True(remote.Tracked, remote.Message);
        Assert.Contains("artifacts not copied", remote.Message);
        Assert.Contains($"artifact_uri: s3://bucket/mlflow/2/{remote.RunId}/artifacts", File.ReadAllLines(Path.Combine(root, "2", remote.RunId!, "meta.yaml")));
    }

    [Fact]
    public async Task Artifacts_that_cannot_be_copied_are_named_and_the_run_is_still_recorded_whole()
    {
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        // The experiment (made by MLflow elsewhere) keeps its artifacts under a path this process cannot write: a file
        // stands where its folder should be. The run's params and metrics were lost with them, in a folder without meta.yaml.
        var blocker = dir.File("artifact-store", "not a folder");
        MlflowExperiment(root, "1", "NetworkSecurity", artifactLocation: new Uri(Path.Combine(blocker, "1")).AbsoluteUri);

        var result = await new MlflowFileStoreTracker(root).TrackAsync(Run("NetworkSecurity", true, dir.File("m.json", "{}")), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        Assert.Contains($"artifacts not copied to {Path.Combine(blocker, "1", result.RunId!, "artifacts")}", result.Message);
        var runDirectory = Path.Combine(root, "1", result.RunId!);
        Assert.Contains("status: 3", File.ReadAllLines(Path.Combine(runDirectory, "meta.yaml")));
        Assert.Equal("1700000005000 0.97651 0\n", File.ReadAllText(Path.Combine(runDirectory, "metrics", "test_f1")));
        Assert.Equal("gradient_boosting", File.ReadAllText(Path.Combine(runDirectory, "params", "learner")));
        Assert.Equal([result.RunId], Directory.GetDirectories(Path.Combine(root, "1")).Select(Path.GetFileName).Where(n => n != "tags")); // one run, complete
    }

    [Fact]
    public async Task Artifacts_copied_before_one_that_cannot_be_are_removed_so_the_run_fits_where_they_did_not()
    {
        // The model folder copied, then the copy failed (here a link to nothing; on a full disk, no room): the copied files
        // stayed and took the room meta.yaml needed, and the whole run was lost. "Not copied" now means none is there.
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        var model = Path.Combine(dir.Path, "model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "model.nsm"), "weights");
        var broken = Path.Combine(dir.Path, "drift_report");
        Directory.CreateDirectory(broken);
        File.CreateSymbolicLink(Path.Combine(broken, "report.yaml"), Path.Combine(dir.Path, "missing.yaml"));
        var run = Run("NetworkSecurity", true, model) with
        {
            Artifacts = [new TrackedArtifact(model, "final_model"), new TrackedArtifact(broken, "data_validation")],
        };

        var result = await new MlflowFileStoreTracker(root).TrackAsync(run, CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var runDirectory = Path.Combine(root, Assert.Single(Experiments(root)), result.RunId!);
        Assert.Contains($"artifacts not copied to {Path.Combine(runDirectory, "artifacts")}", result.Message);
        Assert.False(Directory.Exists(Path.Combine(runDirectory, "artifacts")), "a half-copied artifacts folder was left");
        Assert.Contains("status: 3", File.ReadAllLines(Path.Combine(runDirectory, "meta.yaml")));
    }

    [Fact]
    public async Task Keys_mlflow_accepts_are_written_unchanged_and_keys_it_refuses_are_named_not_fatal()
    {
        using var dir = new TempDirectory();
        var run = Run("E", true, dir.File("a.txt", "x")) with
        {
            Parameters = new Dictionary<string, string> { ["détection:seuil"] = "0.5", ["f1%"] = "x", ["ok"] = "y" },
        };
        var result = await new MlflowFileStoreTracker(Path.Combine(dir.Path, "mlruns")).TrackAsync(run, CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        var runDirectory = Directory.GetDirectories(Path.Combine(dir.Path, "mlruns", Assert.Single(Experiments(Path.Combine(dir.Path, "mlruns"))))).Single();
        Assert.Equal("0.5", File.ReadAllText(Path.Combine(runDirectory, "params", "détection:seuil")));
        Assert.False(File.Exists(Path.Combine(runDirectory, "params", "f1%")));
        Assert.Contains("param 'f1%' has the character '%'", result.Message);
    }

    [Fact]
    public async Task A_key_that_would_be_both_a_file_and_a_folder_is_named_and_the_rest_of_the_run_recorded()
    {
        // Features named "SSL" and "SSL/anchor" give importance.SSL and importance.SSL/anchor: a file and a folder of one
        // name. The whole run was lost ("'…/metrics/importance.SSL' is a folder").
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        var run = Run("NetworkSecurity", true, dir.File("m.json", "{}")) with
        {
            Metrics = new Dictionary<string, double> { ["importance.SSL/anchor"] = 2.85, ["importance.SSL"] = 2.42, ["test_f1"] = 0.97 },
            Parameters = new Dictionary<string, string> { ["model/depth"] = "6", ["model"] = "gbdt" },
        };

        var result = await new MlflowFileStoreTracker(root).TrackAsync(run, CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var runDirectory = Path.Combine(root, Assert.Single(Experiments(root)), result.RunId!);
        Assert.Equal("1700000005000 2.85 0\n", File.ReadAllText(Path.Combine(runDirectory, "metrics", "importance.SSL", "anchor")));
        Assert.Equal("1700000005000 0.97 0\n", File.ReadAllText(Path.Combine(runDirectory, "metrics", "test_f1")));
        Assert.Contains("metric 'importance.SSL' clashes with 'importance.SSL/anchor'", result.Message);
        Assert.Equal("gbdt", File.ReadAllText(Path.Combine(runDirectory, "params", "model"))); // "model" sorts first and is kept
        Assert.Contains("param 'model/depth' clashes with 'model'", result.Message);
        Assert.Contains("status: 3", File.ReadAllLines(Path.Combine(runDirectory, "meta.yaml")));
    }

    [Fact]
    public async Task A_key_longer_than_a_file_name_is_named_and_the_rest_of_the_run_recorded()
    {
        // A feature named with 130 Cyrillic letters: within MLflow's 250 characters, but 260 bytes, more than a file name
        // holds. The whole run was lost ("File name too long").
        using var dir = new TempDirectory();
        var root = NewStore(dir);
        var feature = new string('ж', 130);
        var run = Run("NetworkSecurity", true, dir.File("m.json", "{}")) with
        {
            Metrics = new Dictionary<string, double> { [$"importance.{feature}"] = 0.75, [$"importance/{new string('ж', 127)}"] = 0.5, ["test_f1"] = 0.97 },
        };

        var result = await new MlflowFileStoreTracker(root).TrackAsync(run, CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var runDirectory = Path.Combine(root, Assert.Single(Experiments(root)), result.RunId!);
        Assert.Equal("1700000005000 0.97 0\n", File.ReadAllText(Path.Combine(runDirectory, "metrics", "test_f1")));
        Assert.Equal("1700000005000 0.5 0\n", File.ReadAllText(Path.Combine(runDirectory, "metrics", "importance", new string('ж', 127)))); // 254 bytes: fits
        Assert.Contains($"metric 'importance.{feature}' has a part of 271 bytes in UTF-8", result.Message);
        Assert.Equal(["importance", "test_f1"], Directory.GetFileSystemEntries(Path.Combine(runDirectory, "metrics")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_default_experiment_left_without_its_meta_yaml_is_completed()
    {
        // A first run on a full disk made 0/ and could not write 0/meta.yaml; every later run saw a store that was not new,
        // so the Default experiment MLflow's client logs to was never made. (Experiments are now made under a temporary
        // name and renamed, so a failed write leaves no folder at all.)
        using var dir = new TempDirectory();
        var root = Path.Combine(dir.Path, "mlruns");
        Directory.CreateDirectory(Path.Combine(root, "0"));

        var result = await new MlflowFileStoreTracker(root).TrackAsync(Run("NetworkSecurity", true, dir.File("m.json", "{}")), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var meta = File.ReadAllLines(Path.Combine(root, "0", "meta.yaml"));
        Assert.Contains("name: Default", meta);
        Assert.Contains("experiment_id: '0'", meta);
        Assert.Contains($"artifact_location: {new Uri(Path.Combine(root, "0")).AbsoluteUri}", meta);
        Assert.True(Directory.Exists(Path.Combine(root, ".trash")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(root), e => e.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(root, Assert.Single(Experiments(root)), "meta.yaml")));

        // An experiment folder a killed process left under its temporary name is not taken for the experiment.
        MlflowExperiment(root, ".7.0123456789abcdef.tmp", "Other");
        var other = await new MlflowFileStoreTracker(root).TrackAsync(Run("Other", true, dir.File("m.json", "{}")), CancellationToken.None);
        Assert.True(other.Tracked, other.Message);
        Assert.DoesNotContain(".tmp", other.Message, StringComparison.Ordinal);
        Assert.Equal(2, Experiments(root).Count(e => !e.EndsWith(".tmp", StringComparison.Ordinal)));
    }

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
        Assert.EndsWith("mlruns", MlflowFileStoreTracker.FromTrackingUri(null).Root);
        Assert.Equal("/tmp/x/mlruns", MlflowFileStoreTracker.FromTrackingUri("file:///tmp/x/mlruns").Root);
        Assert.Throws<ArgumentException>(() => MlflowFileStoreTracker.FromTrackingUri("https://example.invalid/repo.mlflow"));

        // As MLflow reads them: localhost is this machine, file:relative is relative, escapes are decoded.
        Assert.Equal("/tmp/x/mlruns", MlflowFileStoreTracker.FromTrackingUri("file://localhost/tmp/x/mlruns").Root);
        Assert.EndsWith(Path.Combine("work", "my runs"), MlflowFileStoreTracker.FromTrackingUri("file:work/my%20runs").Root);
        // Another host was made a UNC path, a folder literally named \\otherhost\tmp\x; no folder at all threw "Invalid URI".
        Assert.Contains("names another host (otherhost)", Assert.Throws<ArgumentException>(() => MlflowFileStoreTracker.FromTrackingUri("file://otherhost/tmp/x")).Message);
        Assert.Contains("names no folder", MlflowOptions.TrackingUriProblem("file:"));
        Assert.Contains("names another host", MlflowOptions.TrackingUriProblem("file://otherhost/tmp/x"));
        Assert.Null(MlflowOptions.TrackingUriProblem("file:relstore"));
    }
}
