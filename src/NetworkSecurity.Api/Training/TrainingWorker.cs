using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Training;

/// <summary>
/// Runs queued training jobs one at a time, off the request threads. At start-up it loads the live model, or pulls the
/// latest promoted one from object storage, or queues a first run. A failed run is logged and reported on its job; it
/// never stops the service. A job holds the training lease (see <see cref="TrainingCoordinator"/>) until its model is
/// published, which happens in the background (<see cref="BackgroundPublisher"/>) after the model is already served here.
/// </summary>
public sealed class TrainingWorker(
    TrainingJobQueue queue,
    TrainingCoordinator coordinator,
    LiveModel live,
    ModelOrigin origins,
    ModelFolderGate folderGate,
    IServiceScopeFactory scopes,
    BackgroundPublisher artifactStore,
    IOptions<ApiOptions> apiOptions,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    // A job's times are on the lease's clock, the store's when replicas share one, as its creation time is (see
    // TrainingCoordinator): other replicas show the job, and its started_at came before its created_at on a skewed replica.
    private DateTimeOffset Now => coordinator.Lease.UtcNow;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Loading a bundle takes milliseconds: do it before the server accepts requests, so a model on disk is served at once.
        if (live.TryReload() && live.Current is { } model)
        {
            origins.Record(model.Version, $"local model folder {live.Store.Directory} at start-up");
        }

        if (!coordinator.Lease.IsShared)
        {
            logger.LogInformation("Replica {Replica}: training lease {Lease}", coordinator.ReplicaId, coordinator.Lease.Description);
        }
        else
        {
            logger.LogInformation("Replica {Replica}: training lease in shared storage (mode logged once probed)", coordinator.ReplicaId);
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Yield(); // Let the host finish starting before any heavy work.
            await LoadInitialModelAsync(stoppingToken).ConfigureAwait(false);
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunAsync(job, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, also when the host failed to start (a port in use): not an error to log.
        }
    }

    private async Task LoadInitialModelAsync(CancellationToken cancellationToken)
    {
        if (live.Current is not null)
        {
            return;
        }

        await folderGate.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (live.Current is null && await artifactStore.TryPullLatestModelAsync(live.Store.Directory, folder => ModelStore.LoadVerified(folder, live.Schema), cancellationToken).ConfigureAwait(false) && live.TryReload())
            {
                origins.Record(live.Current!.Version, $"pulled from {artifactStore.Description} at start-up");
                logger.LogInformation("Pulled the latest promoted model {Version} from {Store}", live.Current.Version, artifactStore.Description);
                return;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Could not pull a model from {Store}: {Error}", artifactStore.Description, ex.Message);
        }
        finally
        {
            folderGate.Lock.Release();
        }

        if (live.Current is not null)
        {
            return; // the model sync loaded one meanwhile
        }

        if (apiOptions.Value.TrainOnStartup)
        {
            var request = await coordinator.RequestAsync("no model at start-up", cancellationToken).ConfigureAwait(false);
            if (request.Job is { } job)
            {
                logger.LogInformation("No model in {Directory}: queued first training run {Job}", live.Store.Directory, job.Id);
            }
            else if (request.HeldBy is { } holder)
            {
                logger.LogInformation("No model in {Directory}; replica {Holder} is training (job {Job}): its model is loaded once published", live.Store.Directory, holder.Holder, holder.JobId);
            }
            else
            {
                // A replica without a model cannot serve: train anyway, and say that the lease was not taken.
                job = await coordinator.EnqueueWithoutLeaseAsync("no model at start-up (training lease unreachable)", cancellationToken).ConfigureAwait(false);
                logger.LogWarning("No model in {Directory} and the training lease is unreachable ({Error}): training first model {Job} without it", live.Store.Directory, request.Error, job.Id);
            }
        }
        else
        {
            logger.LogWarning("No model in {Directory} and Api:TrainOnStartup is off: POST /train to train one", live.Store.Directory);
        }
    }

    private async Task RunAsync(TrainingJob job, CancellationToken stoppingToken)
    {
        job.Update(s => s with { State = TrainingJobState.Running, StartedAt = Now, Stage = PipelineStage.Ingestion });
        logger.LogInformation("Training job {Job} started ({Reason})", job.Id, job.Status.Reason);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var pipeline = scope.ServiceProvider.GetRequiredService<TrainingPipeline>();
            var before = live.Current?.Version;
            var progress = new JobProgress(job, () =>
            {
                // Promotion is done when publishing starts: serve the new model now, not after tracking and uploads.
                if (live.TryReload() && live.Current is { } model && model.Version != before)
                {
                    origins.Record(model.Version, $"trained on this replica ({coordinator.ReplicaId}, job {job.Id})");
                }
            });

            // The pipeline is CPU-bound: run it on a pool thread so the channel loop never blocks a request thread.
            var result = await Task.Run(() => pipeline.RunAsync(progress, stoppingToken), stoppingToken).ConfigureAwait(false);
            if (result.PromotedVersion is { } promoted)
            {
                origins.Record(promoted, $"trained on this replica ({coordinator.ReplicaId}, job {job.Id})");
                live.TryReload();
            }

            var test = result.Evaluation.Test.Legitimate;
            var publication = artifactStore.Find(result.RunId);
            if (publication is null)
            {
                // Nothing to upload: the lease goes before the job says it is done, so asking again at once is not a 409.
                await ReleaseLeaseAsync(job).ConfigureAwait(false);
            }

            job.Update(s => s with
            {
                State = TrainingJobState.Succeeded,
                FinishedAt = Now,
                Stage = PipelineStage.Done,
                Progress = 1.0,
                Outcome = new TrainingJobOutcome(
                    result.RunId, result.Learner, Measured(test.F1), Measured(test.Precision), Measured(test.Recall), Measured(test.Accuracy), Measured(test.RocAuc),
                    result.PromotedVersion is not null, result.PromotedVersion, result.Evaluation.RejectionReason,
                    result.Tracking.Message, result.Sync.Message, result.Duration.TotalSeconds),
                Publication = publication is null ? new PublicationStatus(PublicationState.LocalOnly, 0, artifactStore.Description, null) : s.Publication,
            });
            if (publication is not null)
            {
                FollowPublication(job, publication); // after the outcome, so a job with a publication always has one
            }

            logger.LogInformation("Training job {Job} succeeded in {Seconds:0.00}s", job.Id, result.Duration.TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            job.Update(s => s with { State = TrainingJobState.Failed, FinishedAt = Now, Error = "The service stopped during training." });
            await ReleaseLeaseAsync(job).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A bad data file or a bug must not take the service down: report it on the job.
            // Expected failures (bad data, a folder that cannot be written) in one line; anything else with its trace.
            var expected = ex is PipelineException or SettingException or IOException or UnauthorizedAccessException;
            var message = expected ? ex.Message : $"Unexpected error: {ex.GetType().Name}: {ex.Message}";
            job.Update(s => s with { State = TrainingJobState.Failed, FinishedAt = Now, Error = message });
            logger.LogError(expected ? null : ex, "Training job {Job} failed: {Error}", job.Id, message);
            await ReleaseLeaseAsync(job).ConfigureAwait(false);
        }
        finally
        {
            ReturnTrainingMemory();
        }
    }

    /// <summary>
    /// A run allocates hundreds of megabytes (folds, bins, forests) that the GC otherwise keeps committed: RSS stayed near
    /// 800 MB after a few runs, against about 100 MB idle. One aggressive, compacting collection per run gives it back;
    /// its pause (tens of milliseconds) comes once per training run, not per request.
    /// </summary>
    private static void ReturnTrainingMemory() => Heap.GiveBack();

    /// <summary>Shows the background publication on the job and keeps the lease until it is done.</summary>
    private void FollowPublication(TrainingJob job, BackgroundPublisher.Publication publication)
    {
        // The final state is shown once the lease is released: a client that sees "published" and asks to train again
        // must not meet this job's own lease (a 409).
        publication.Changed += status =>
        {
            if (!status.IsFinal)
            {
                Show(job, status);
            }
        };
        if (!publication.Status.IsFinal)
        {
            Show(job, publication.Status);
        }

        _ = ReleaseThenShowAsync(job, publication.Completion);
    }

    // Once the publication is over: the lease is released, then the job shows the final state (never the other way round).
    private async Task ReleaseThenShowAsync(TrainingJob job, Task<PublicationStatus> completion)
    {
        var final = await completion.ConfigureAwait(false); // never faults: a publication ends in a state
        await ReleaseLeaseAsync(job).ConfigureAwait(false);
        Show(job, final);
    }

    // No test rows (trained on every row) leave NaN scores: null in the job's JSON, not the string "NaN" where the
    // OpenAPI document promises a number.
    private static double? Measured(double metric) => double.IsFinite(metric) ? metric : null;

    // The publication's state on the job, and its message as the outcome's artifact sync.
    private static void Show(TrainingJob job, PublicationStatus status) =>
        job.Update(s => s with { Publication = status, Outcome = s.Outcome is null ? null : s.Outcome with { ArtifactSync = status.Message } });

    // Runs unawaited (after a publication): a failure is logged here, never left as an unobserved task exception. A lease
    // not released lapses at its expiry.
    private async Task ReleaseLeaseAsync(TrainingJob job)
    {
        if (job.Lease is not { } lease)
        {
            return;
        }

        try
        {
            await lease.ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning("Could not release the training lease of job {Job} ({Error}); it lapses at its expiry", job.Id, ex.Message);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // A job queued as the shutdown began (while the worker was still loading its first model, say) never starts: said
        // on the job, which SharedJobs, stopping after this worker, records, rather than "queued" on the other replicas
        // until its record lapsed (twice the lease time).
        foreach (var job in queue.All.Where(j => j.Status.State == TrainingJobState.Queued))
        {
            job.Update(s => s.State == TrainingJobState.Queued ? s with { State = TrainingJobState.Failed, FinishedAt = Now, Error = "The service stopped before the job started." } : s);
            logger.LogWarning("Training job {Job} did not run: the service stopped before it started", job.Id);
        }

        // A lease still held (e.g. publication unfinished) is given up now rather than lapsing later.
        if (queue.Latest is { Lease: { } lease })
        {
            await lease.ReleaseAsync().ConfigureAwait(false);
        }
    }

    private sealed class JobProgress(TrainingJob job, Action onPublishing) : IProgress<PipelineProgress>
    {
        private int _publishing;

        public void Report(PipelineProgress value)
        {
            job.Update(s => s with { Stage = value.Stage, Progress = Math.Round(value.Fraction, 3) });
            // Once, whichever thread reports it first (progress may come from the search's parallel folds).
            if (value.Stage == PipelineStage.Publishing && Interlocked.Exchange(ref _publishing, 1) == 0)
            {
                onPublishing();
            }
        }
    }
}
