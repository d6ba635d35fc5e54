using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Tracking.Tests;

/// <summary>Whole training runs (--mode gbdt on a sample) tracked through the real trackers.</summary>
public sealed class PipelineTrackingTests
{
    private static TrainingPipeline Pipeline(TempDirectory dir, IExperimentTracker tracker, out string finalModel)
    {
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1200));
        options.OverfittingThreshold = 1; // small samples overfit; the gate has its own tests
        finalModel = options.FinalModelDirectory;
        return new TrainingPipeline(options, new CsvDataSource(options.DataPath), new GradientBoostingTrainer(options.Seed), tracker, new NoArtifactStore(), NullLoggerFactory.Instance);
    }

    [Fact]
    public async Task A_gbdt_run_logs_no_cv_metric_no_nan_and_the_drift_report_once()
    {
        using var dir = new TempDirectory();
        var root = Path.Combine(dir.Path, "mlruns");
        var result = await Pipeline(dir, new MlflowFileStoreTracker(root), out var finalModel).RunAsync(null, CancellationToken.None);

        Assert.True(result.Tracking.Tracked, result.Tracking.Message);
        Assert.DoesNotContain("not logged", result.Tracking.Message); // nothing refused, nothing NaN
        var run = Directory.GetDirectories(root, result.Tracking.RunId!, SearchOption.AllDirectories).Single();
        var metrics = Directory.GetFiles(Path.Combine(run, "metrics")).Select(Path.GetFileName).ToArray();
        Assert.Contains("test_f1", metrics);
        Assert.DoesNotContain(metrics, m => m!.StartsWith("cv_", StringComparison.Ordinal));
        Assert.All(Directory.GetFiles(Path.Combine(run, "metrics")), f => Assert.DoesNotContain("NaN", File.ReadAllText(f), StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(run, "artifacts", "data_validation", "drift_report", "report.yaml")));
        Assert.False(Directory.Exists(Path.Combine(run, "artifacts", "data_validation", "drift_report", "drift_report")));

        var card = File.ReadAllText(Path.Combine(new ModelStore(finalModel).CurrentModelDirectory!, ModelStore.CardFileName));
        Assert.DoesNotContain("NaN", card, StringComparison.Ordinal);
        Assert.Contains("\"cv_score\": null", card);
    }

    [Fact]
    public async Task A_run_stopped_while_it_is_published_is_recorded_once()
    {
        // Not promoted (the gate refused it), then stopped during the artifact upload: the run was recorded as it
        // finished and then a second time, as killed, so MLflow listed it twice.
        using var dir = new TempDirectory();
        var root = Path.Combine(dir.Path, "mlruns");
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1200));
        options.ExpectedScore = 0.9999;
        using var stop = new CancellationTokenSource();
        var pipeline = new TrainingPipeline(options, new CsvDataSource(options.DataPath), new GradientBoostingTrainer(options.Seed),
            new MlflowFileStoreTracker(root), new StoppedDuringUpload(stop), NullLoggerFactory.Instance);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.RunAsync(null, stop.Token));

        var runs = Directory.GetFiles(root, "meta.yaml", SearchOption.AllDirectories).Where(f => Directory.Exists(Path.Combine(Path.GetDirectoryName(f)!, "metrics"))).ToArray();
        Assert.Single(runs);
    }

    // An object store that is shut down in the middle of the upload (SIGTERM), as the service's host does.
    private sealed class StoppedDuringUpload(CancellationTokenSource stop) : IArtifactStore
    {
        public string Description => "s3://stopping";

        public async Task<SyncResult> PublishAsync(string runArtifactsDirectory, string timestamp, string? promotedModelDirectory, CancellationToken cancellationToken)
        {
            await stop.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
            return new SyncResult(true, 0, 0, "not reached");
        }

        public Task<bool> TryPullLatestModelAsync(string finalModelDirectory, Action<string> verify, CancellationToken cancellationToken) => Task.FromResult(false);
    }

    [Fact]
    public async Task A_run_stopped_by_a_shutdown_is_ended_as_killed_first_and_its_tracking_fits_the_hosts_grace()
    {
        // Stopped during its evaluation, the run was tracked with the full 60 s budget (metrics, artifacts, then the
        // status), longer than the host's 30 s shutdown: with a slow server the process ended and the run stayed RUNNING.
        Assert.True(new MlflowOptions().StoppedTrackingTime + TimeSpan.FromSeconds(5) < new Microsoft.Extensions.Hosting.HostOptions().ShutdownTimeout);
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        // A server that takes the run and its status but never answers the metrics or the uploads.
        server.Hold = async (request, aborted) =>
        {
            if (request.Path.EndsWith("log-batch", StringComparison.Ordinal) || request.Method == "PUT")
            {
                await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        };
        // Margins for a loaded CI machine: a cold first request there took more than a 1 s request time-out, so the run
        // was never created and nothing was sent. The client and the server are warmed up first, and the budget that
        // the held metrics use up is a few seconds.
        using var client = new HttpClient();
        (await client.GetAsync(new Uri(new Uri(server.Url), "health"))).Dispose();
        var tracker = new MlflowRestTracker(new MlflowOptions
        {
            TrackingUri = server.Url,
            RequestTimeout = TimeSpan.FromSeconds(10),
            MaxRetries = 0,
            StoppedTrackingTime = TimeSpan.FromSeconds(4),
        }, client, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Stage == PipelineStage.Evaluation)
            {
                stop.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Pipeline(dir, tracker, out _).RunAsync(progress, stop.Token));

        var sent = server.Requests.Where(r => r.Path.EndsWith("runs/update", StringComparison.Ordinal) || r.Path.EndsWith("log-batch", StringComparison.Ordinal)).ToList();
        var update = Assert.Single(sent, r => r.Path.EndsWith("runs/update", StringComparison.Ordinal));
        Assert.Equal("KILLED", update.Json["status"]!.GetValue<string>());
        Assert.Same(update, sent[0]); // before any metric: what a slow server then takes too long for is only the metrics
        Assert.Contains(sent, r => r.Path.EndsWith("log-batch", StringComparison.Ordinal));
    }

    private sealed class SynchronousProgress(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }

    [Fact]
    public async Task A_deleted_experiment_on_the_server_still_promotes_the_model_and_says_so()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.AddExperiment("NetworkSecurity", "4", deleted: true);
        var tracker = new MlflowRestTracker(new MlflowOptions { TrackingUri = server.Url }, new HttpClient(), NullLogger.Instance);
        var result = await Pipeline(dir, tracker, out var finalModel).RunAsync(null, CancellationToken.None);

        Assert.NotNull(result.PromotedVersion);
        Assert.Equal(result.PromotedVersion, new ModelStore(finalModel).CurrentVersion);
        Assert.False(result.Tracking.Tracked);
        Assert.Contains("experiment 'NetworkSecurity' (id 4) is deleted on MLflow server", result.Tracking.Message);
        Assert.Contains("MLFLOW_EXPERIMENT_NAME", result.Tracking.Message);
    }

    [Fact]
    public void A_card_without_cross_validation_shows_null_also_when_read_from_an_older_bundle()
    {
        var options = new JsonSerializerOptions // as GET /model serializes (WebApplicationExtensions)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        var old = """{"version":"v1","trained_at":"2026-01-01T00:00:00+00:00","learner":"gradient_boosting","parameters":{},"cv_scoring":"none","cv_score":"NaN","cv_score_std":"NaN","train":null,"test":null,"test_roc_curve":[],"schema_fingerprint":"f","data_sha256":"d","train_rows":1,"test_rows":1,"split":"stratified","seed":42}""";
        var card = JsonSerializer.Deserialize<ModelCard>(old, options)!;
        Assert.Null(card.CvScore);
        Assert.Null(card.CvScoreStd);
        var json = JsonSerializer.Serialize(card, options);
        Assert.Contains("\"cv_score\":null", json);
        Assert.DoesNotContain("NaN", json, StringComparison.Ordinal);
        Assert.Equal(0.97, (card with { CvScore = 0.97 }).CvScore);
    }
}
