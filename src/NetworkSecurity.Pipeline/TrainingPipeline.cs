using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Stages;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline;

/// <summary>
/// Runs the stages in order — ingestion, validation, transformation, training, evaluation — keeps every output in
/// Artifacts/&lt;timestamp&gt;/, promotes a model that passes the quality gate, then records the run in the experiment
/// tracker and ships the artifacts to object storage. Tracking or storage outages are reported, never fatal.
/// </summary>
public sealed class TrainingPipeline(
    PipelineOptions options,
    IDataSource source,
    IModelTrainer trainer,
    IExperimentTracker tracker,
    IArtifactStore artifactStore,
    ILoggerFactory loggerFactory,
    TimeProvider? clock = null)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<TrainingPipeline>();
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<PipelineResult> RunAsync(IProgress<PipelineProgress>? progress, CancellationToken cancellationToken)
    {
        var started = _clock.GetUtcNow();
        var total = Stopwatch.StartNew();
        var schema = SchemaLoader.Load(options.SchemaPath);
        var layout = ArtifactLayout.Create(options.ArtifactsRoot, started, version => Directory.Exists(Path.Combine(options.FinalModelDirectory, version)));
        var stageLogger = loggerFactory.CreateLogger("NetworkSecurity.Pipeline.Stages");
        _logger.LogInformation("Training run {Run} started: artifacts in {Artifacts}", layout.Timestamp, layout.Root);
        var pruned = ArtifactLayout.PruneOldRuns(options.ArtifactsRoot, options.ArtifactRunsKept);
        if (pruned.Count > 0)
        {
            _logger.LogInformation("Removed {Count} older run folder(s) from {Artifacts} (Pipeline:ArtifactRunsKept = {Kept}): {Runs}", pruned.Count, options.ArtifactsRoot, options.ArtifactRunsKept, string.Join(", ", pruned));
        }

        IngestionResult? ingestion = null;
        TrainedModel? trained = null;
        EvaluationResult? evaluation = null;
        GlobalImportance? importance = null;
        var publishing = false; // once the run is being recorded, a failure or a stop must not record it a second time
        try
        {
            Report(progress, PipelineStage.Ingestion, 0.0);
            ingestion = await new DataIngestionStage(source, schema, options, stageLogger).RunAsync(layout, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();

            var rows = ingestion.Train.Count + ingestion.Test.Count;
            ReleaseStageGarbage(rows);
            Report(progress, PipelineStage.Validation, 0.10);
            new DataValidationStage(schema, options, stageLogger, source.Description).Run(layout, ingestion);
            DataChecks.RequireBothClasses(schema, $"{source.Description}: the training rows", ingestion.Train.CountOf(0), ingestion.Train.CountOf(1));
            var groups = options.IsGroupedSplit ? TrainGroups(ingestion) : null;
            if (trainer.CrossValidationFolds >= 2)
            {
                // Here, naming the data as the refusal above does: the search said it after imputing every row, naming no file.
                try
                {
                    GridSearchTrainer.EnoughForFolds(ingestion.Train.Labels, groups, trainer.CrossValidationFolds);
                }
                catch (PipelineException ex)
                {
                    throw new PipelineException($"{source.Description}: {ex.Message}", ex);
                }
            }

            ReleaseStageGarbage(rows);
            Report(progress, PipelineStage.Transformation, 0.15);
            var transformed = new DataTransformationStage(schema, options, stageLogger).Run(layout, ingestion);
            cancellationToken.ThrowIfCancellationRequested();

            ReleaseStageGarbage(rows);
            Report(progress, PipelineStage.Training, 0.20);
            trained = new ModelTrainingStage(trainer, stageLogger).Run(layout, ingestion, transformed, groups, new StageProgress(f => Report(progress, PipelineStage.Training, 0.20 + (0.70 * f))), cancellationToken);

            ReleaseStageGarbage(rows);
            Report(progress, PipelineStage.Evaluation, 0.90);
            evaluation = new ModelEvaluationStage(schema, options, stageLogger).Run(layout, trained.Model, transformed, ingestion, trained.CvF1);
            importance = ExplainImportance(layout, schema, trained.Model, transformed);
            // The last point to stop before the model goes live: a Ctrl+C during evaluation is not a promotion.
            cancellationToken.ThrowIfCancellationRequested();

            string? promotedVersion = null;
            var store = new ModelStore(options.FinalModelDirectory, options.ModelVersionsKept);
            if (evaluation.Passed)
            {
                Report(progress, PipelineStage.Promotion, 0.95);
                var card = new ModelCard(
                    layout.Timestamp, started, trained.Learner, trained.Parameters, trained.Scoring, trained.CvScore, trained.CvScoreStd,
                    evaluation.Train, ingestion.Test.Count > 0 ? evaluation.Test : null, evaluation.TestRocCurve, schema.Fingerprint, ingestion.DataHash,
                    ingestion.Train.Count, ingestion.Test.Count, options.Split, options.Seed, importance,
                    Holdout: options.HasNoHoldout ? "none: trained on every row, gated on the cross-validated F1" : "test split",
                    CvF1: trained.CvF1, GridEntry: trained.GridEntry, Classes: schema.Target.Classes);
                store.Promote(new ModelBundle(schema.Fingerprint, schema.FeatureNames, transformed.Imputer, trained.Model, card));
                promotedVersion = layout.Timestamp;
                _logger.LogInformation("Model {Version} promoted to {Directory}", promotedVersion, store.CurrentModelDirectory);
            }

            Report(progress, PipelineStage.Publishing, 0.97);
            publishing = true;
            TrackingResult tracking;
            SyncResult sync;
            try
            {
                (tracking, sync) = await PublishAsync(layout, started, schema, ingestion, trained, evaluation, store, promotedVersion, null, cancellationToken, importance).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && promotedVersion is not null)
            {
                // Stopped while publishing: the model is promoted and live all the same, and the run says so.
                _logger.LogWarning("Publishing cancelled; model {Version} is promoted and live, but the run is not recorded in MLflow or synced to object storage", promotedVersion);
                (tracking, sync) = (new TrackingResult(false, null, "cancelled"), new SyncResult(false, 0, 0, "cancelled"));
            }

            _logger.LogInformation("Training run {Run} finished in {Elapsed:0.000}s: {Outcome}",
                layout.Timestamp, total.Elapsed.TotalSeconds, promotedVersion is null ? $"not promoted ({evaluation.RejectionReason})" : $"model {promotedVersion} is live");
            Report(progress, PipelineStage.Done, 1.0);
            return new PipelineResult(layout.Timestamp, layout.Root, trained.Learner, trained.Parameters, trained.CvScore, evaluation, promotedVersion, tracking, sync, total.Elapsed, trained.CvF1, ingestion.Test.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A cancellation nobody asked for (a client's or driver's own timeout) is a failure like any other.
            // The first line only: the caller (the train command, the service's worker) reports the whole message, with
            // its list of problems, once.
            _logger.LogError("Training run {Run} failed after {Elapsed:0.000}s: {Error}", layout.Timestamp, total.Elapsed.TotalSeconds, ex.Message.Split('\n', 2)[0].TrimEnd());
            if (!publishing)
            {
                await PublishAsync(layout, started, schema, ingestion, trained, evaluation, null, null, ex.Message, CancellationToken.None, importance).ConfigureAwait(false);
            }

            RemoveIfNothingWritten(layout.Root);
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A cancelled run is a run too: recorded as failed, with why (bounded by the tracker's own timeouts).
            _logger.LogWarning("Training run {Run} cancelled after {Elapsed:0.000}s", layout.Timestamp, total.Elapsed.TotalSeconds);
            if (!publishing)
            {
                // Stopped while it was being recorded, the tracker ends that record as killed: a second one would list
                // the run twice in MLflow.
                await PublishAsync(layout, started, schema, ingestion, trained, evaluation, null, null, "cancelled", CancellationToken.None, importance, cancelled: true).ConfigureAwait(false);
            }

            throw;
        }
    }

    // A run that failed before writing anything (missing data, an unreachable database) leaves no empty Artifacts/<ts>/.
    private static void RemoveIfNothingWritten(string folder)
    {
        try
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any())
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Only tidiness: the run's failure is what the caller hears about.
        }
    }

    /// <summary>
    /// Global importance for the model card, the evaluation folder and MLflow: on the test rows, or on the training rows
    /// when there is no hold-out (--test-fraction 0), rather than on no rows at all.
    /// </summary>
    private GlobalImportance ExplainImportance(ArtifactLayout layout, DataSchema schema, Learning.Models.IClassifierModel model, TransformationResult transformed)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (rows, which) = transformed.Test.Rows > 0 ? (transformed.Test, "test") : (transformed.Train, "training");
        var result = Prediction.ImportanceCalculator.Compute(model, schema.FeatureNames, rows);
        ReportWriter.WriteJson(Path.Combine(layout.Evaluation, "importance.json"), result);
        if (result.UnavailableReason is { } reason)
        {
            _logger.LogWarning("No feature importance: {Reason}", reason);
        }
        else
        {
            // "on 466 test rows" read as if the test split had 466 rows: the estimate covers the copies of at most
            // ImportanceCalculator.MaxDistinctRows distinct vectors out of all of them.
            _logger.LogInformation("Feature importance (mean |contribution| on {Rows} of {Total} {Which} rows: at most {Distinct} distinct vectors, each weighted by its copies; {Scale}) in {Elapsed:0.000}s; top: {Top}",
                result.Rows, rows.Rows, which, Prediction.ImportanceCalculator.MaxDistinctRows, result.Scale, clock.Elapsed.TotalSeconds,
                string.Join(", ", result.Features.Take(5).Select(f => $"{f.Feature} {f.MeanAbsContribution:0.000}")));
        }

        return result;
    }

    private static int[] TrainGroups(IngestionResult ingestion) =>
        Data.DuplicateAnalysis.Analyze(ingestion.Train.Features, ingestion.Train.Labels).GroupIds;

    private async Task<(TrackingResult Tracking, SyncResult Sync)> PublishAsync(
        ArtifactLayout layout, DateTimeOffset started, DataSchema schema, IngestionResult? ingestion, TrainedModel? trained,
        EvaluationResult? evaluation, ModelStore? store, string? promotedVersion, string? error, CancellationToken cancellationToken,
        GlobalImportance? importance = null, bool cancelled = false)
    {
        layout.ReleaseClaim();
        var tags = new Dictionary<string, string>
        {
            ["source"] = source.Description,
            ["user"] = Environment.UserName,
            ["schema_fingerprint"] = schema.Fingerprint,
            ["promoted"] = (promotedVersion is not null).ToString().ToLowerInvariant(),
        };
        if (ingestion is not null)
        {
            tags["dataset_sha256"] = ingestion.DataHash;
        }

        if (GitCommit.Read(Directory.GetCurrentDirectory()) is { } commit)
        {
            tags["mlflow.source.git.commit"] = commit;
        }

        if (error is not null)
        {
            tags["error"] = error.Length > 1000 ? error[..1000] : error;
        }

        if (evaluation?.RejectionReason is { } reason)
        {
            tags["quality_gate"] = reason;
        }

        var parameters = new Dictionary<string, string>
        {
            ["split"] = options.Split,
            ["test_fraction"] = options.TestFraction.ToString(CultureInfo.InvariantCulture),
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["imputer"] = "knn",
            ["imputer_neighbors"] = options.ImputerNeighbors.ToString(CultureInfo.InvariantCulture),
            ["training_mode"] = options.Training.Mode,
            ["cv_folds"] = options.Training.CrossValidationFolds.ToString(CultureInfo.InvariantCulture),
        };
        var metrics = new Dictionary<string, double>();
        if (trained is not null)
        {
            parameters["learner"] = trained.Learner;
            if (trained.GridEntry is { } entry)
            {
                parameters["grid_entry"] = entry;
            }
            foreach (var (key, value) in trained.Parameters)
            {
                parameters[$"model.{key}"] = value;
            }

            if (double.IsFinite(trained.CvScore)) // no cross-validation (--mode gbdt): no CV metric at all
            {
                metrics[$"cv_{trained.Scoring}"] = trained.CvScore;
                metrics[$"cv_{trained.Scoring}_std"] = trained.CvScoreStd;
                if (double.IsFinite(trained.CvF1))
                {
                    metrics["cv_f1"] = trained.CvF1; // the gate's measure without a hold-out, whatever ranked the search
                }
            }
        }

        if (evaluation is not null)
        {
            AddMetrics(metrics, "train", evaluation.Train.Legitimate);
            if (ingestion?.Test.Count > 0) // no hold-out: no test metrics at all, rather than NaN ones the tracker drops
            {
                AddMetrics(metrics, "test", evaluation.Test.Legitimate);
                metrics["test_phishing_f1"] = evaluation.Test.Phishing.F1;
                metrics["test_phishing_precision"] = evaluation.Test.Phishing.Precision;
                metrics["test_phishing_recall"] = evaluation.Test.Phishing.Recall;
            }
        }

        // Global importance as one metric per feature: importance.<feature> = mean |contribution| on the test rows.
        foreach (var feature in importance?.Features ?? [])
        {
            metrics[$"importance.{feature.Feature}"] = feature.MeanAbsContribution;
        }

        var artifacts = new List<TrackedArtifact>
        {
            new(Path.Combine(layout.Evaluation, "importance.json"), "model_evaluation"),
            new(Path.Combine(layout.Trainer, "leaderboard.csv"), "model_trainer"),
            new(layout.DriftReport, "data_validation"), // the folder itself: data_validation/drift_report/report.yaml
            new(Path.Combine(layout.Evaluation, "metrics.json"), "model_evaluation"),
        };
        if (store?.CurrentModelDirectory is { } modelFolder && promotedVersion is not null)
        {
            artifacts.Add(new TrackedArtifact(modelFolder, "final_model"));
        }

        var run = new TrackedRun(options.ExperimentName, $"train-{layout.Timestamp}", started, _clock.GetUtcNow(), error is null, tags, parameters, metrics,
            artifacts.Where(a => File.Exists(a.LocalPath) || Directory.Exists(a.LocalPath)).ToArray())
        {
            Cancelled = cancelled, // stopped rather than failed: tracked as KILLED
        };
        var tracking = await SafelyAsync(() => tracker.TrackAsync(run, cancellationToken), e => new TrackingResult(false, null, $"Tracking failed: {e.Message}")).ConfigureAwait(false);
        if (tracker is NoExperimentTracker)
        {
            // Switched off on purpose: said at Information, not warned about as "Run NOT tracked in tracking disabled".
            _logger.LogInformation("Run not tracked: {Message}", tracking.Message);
        }
        else
        {
            _logger.Log(tracking.Tracked ? LogLevel.Information : LogLevel.Warning, "Run {Outcome} in {Where}: {Message}",
                tracking.Tracked ? "tracked" : "NOT tracked", tracker.Description, tracking.Message);
        }

        var sync = error is null
            ? await SafelyAsync(() => artifactStore.PublishAsync(layout.Root, layout.Timestamp, store?.CurrentModelDirectory is { } d && promotedVersion is not null ? d : null, cancellationToken),
                e => new SyncResult(false, 0, 0, $"Sync failed: {e.Message}")).ConfigureAwait(false)
            : new SyncResult(false, 0, 0, "The run failed: nothing to sync.");
        if (error is null && artifactStore is NoArtifactStore)
        {
            _logger.LogInformation("Object storage is not configured (set S3_BUCKET to ship artifacts and models): artifacts stay in {Folder}", layout.Root);
        }
        else if (error is null)
        {
            // A success message names the store itself ("… uploaded … to s3://…", or "queued" in the service, where the
            // uploads run in the background): not "synced to s3://…: … to s3://…", nor "synced" before anything went up.
            if (sync.Synced)
            {
                _logger.LogInformation("Artifacts: {Message}", sync.Message);
            }
            else
            {
                _logger.LogWarning("Artifacts NOT synced to {Where}: {Message}", artifactStore.Description, sync.Message);
            }
        }

        return (tracking, sync);
    }

    private static async Task<T> SafelyAsync<T>(Func<Task<T>> action, Func<Exception, T> onError)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return onError(ex);
        }
    }

    private static void AddMetrics(Dictionary<string, double> metrics, string prefix, ClassificationReport report)
    {
        metrics[$"{prefix}_f1"] = report.F1;
        metrics[$"{prefix}_precision"] = report.Precision;
        metrics[$"{prefix}_recall"] = report.Recall;
        metrics[$"{prefix}_accuracy"] = report.Accuracy;
        metrics[$"{prefix}_roc_auc"] = report.RocAuc;
    }

    private static void Report(IProgress<PipelineProgress>? progress, PipelineStage stage, double fraction) =>
        progress?.Report(new PipelineProgress(stage, fraction));

    private const int LargeDataSetRows = 100_000;

    // When a stage ends most of its memory has just died (the file's records, the drift test's sorted columns, the
    // search's fold copies), most of it large arrays that the collector otherwise leaves in place while the next stage
    // allocates its own: resident memory grew to twice what was alive. One compacting collection per stage hands it
    // back (1 million rows: peak resident 2.03 GB before these collections and the drift test's columns sized once,
    // 1.61 GB after; README "Training memory"); it takes a fraction of a second, four times a run. Only for large data
    // sets: a blocking collection pauses the requests a service answers meanwhile, and on small ones it gains nothing.
    // (Called from progress reports, it had run at every report of the search too, not only between stages.)
    private static void ReleaseStageGarbage(int rows)
    {
        if (rows < LargeDataSetRows)
        {
            return;
        }

        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}

public enum PipelineStage
{
    Queued,
    Ingestion,
    Validation,
    Transformation,
    Training,
    Evaluation,
    Promotion,
    Publishing,
    Done,
}

public sealed record PipelineProgress(PipelineStage Stage, double Fraction);

public sealed record PipelineResult(
    string RunId,
    string ArtifactDirectory,
    string Learner,
    IReadOnlyDictionary<string, string> Parameters,
    double CvScore,
    EvaluationResult Evaluation,
    string? PromotedVersion,
    TrackingResult Tracking,
    SyncResult Sync,
    TimeSpan Duration,
    double CvF1 = double.NaN,
    int TestRows = 0);
