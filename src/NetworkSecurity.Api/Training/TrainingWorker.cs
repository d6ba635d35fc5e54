using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Storage;

namespace NetworkSecurity.Api.Training;

/// <summary>
/// Runs queued training jobs one at a time, off the request threads. At start-up it loads the live model, or pulls the
/// latest promoted one from object storage, or queues a first run. A failed run is logged and reported on its job; it
/// never stops the service.
/// </summary>
public sealed class TrainingWorker(
    TrainingJobQueue queue,
    LiveModel live,
    IServiceScopeFactory scopes,
    IArtifactStore artifactStore,
    IOptions<ApiOptions> apiOptions,
    TimeProvider clock,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Loading a bundle takes milliseconds: do it before the server accepts requests, so a model on disk is served at once.
        live.TryReload();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // Let the host finish starting before any heavy work.
        await LoadInitialModelAsync(stoppingToken).ConfigureAwait(false);
        await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            await RunAsync(job, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task LoadInitialModelAsync(CancellationToken cancellationToken)
    {
        if (live.Current is not null)
        {
            return;
        }

        try
        {
            if (await artifactStore.TryPullLatestModelAsync(live.Store.Directory, cancellationToken).ConfigureAwait(false) && live.TryReload())
            {
                logger.LogInformation("Pulled the latest promoted model from {Store}", artifactStore.Description);
                return;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Could not pull a model from {Store}: {Error}", artifactStore.Description, ex.Message);
        }

        if (apiOptions.Value.TrainOnStartup)
        {
            var job = queue.Enqueue("no model at start-up", out _);
            logger.LogInformation("No model in {Directory}: queued first training run {Job}", live.Store.Directory, job.Id);
        }
        else
        {
            logger.LogWarning("No model in {Directory} and Api:TrainOnStartup is off: POST /train to train one", live.Store.Directory);
        }
    }

    private async Task RunAsync(TrainingJob job, CancellationToken stoppingToken)
    {
        job.Update(s => s with { State = TrainingJobState.Running, StartedAt = clock.GetUtcNow(), Stage = PipelineStage.Ingestion });
        logger.LogInformation("Training job {Job} started ({Reason})", job.Id, job.Status.Reason);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var pipeline = scope.ServiceProvider.GetRequiredService<TrainingPipeline>();
            var progress = new JobProgress(job);

            // The pipeline is CPU-bound: run it on a pool thread so the channel loop never blocks a request thread.
            var result = await Task.Run(() => pipeline.RunAsync(progress, stoppingToken), stoppingToken).ConfigureAwait(false);
            if (result.PromotedVersion is not null)
            {
                live.TryReload();
            }

            var test = result.Evaluation.Test.Legitimate;
            job.Update(s => s with
            {
                State = TrainingJobState.Succeeded,
                FinishedAt = clock.GetUtcNow(),
                Stage = PipelineStage.Done,
                Progress = 1.0,
                Outcome = new TrainingJobOutcome(
                    result.RunId, result.Learner, test.F1, test.Precision, test.Recall, test.Accuracy, test.RocAuc,
                    result.PromotedVersion is not null, result.PromotedVersion, result.Evaluation.RejectionReason,
                    result.Tracking.Message, result.Sync.Message, result.Duration.TotalSeconds),
            });
            logger.LogInformation("Training job {Job} succeeded in {Seconds:0.00}s", job.Id, result.Duration.TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            job.Update(s => s with { State = TrainingJobState.Failed, FinishedAt = clock.GetUtcNow(), Error = "The service stopped during training." });
        }
        catch (Exception ex)
        {
            // A bad data file or a bug must not take the service down: report it on the job.
            var message = ex is PipelineException ? ex.Message : $"Unexpected error: {ex.GetType().Name}: {ex.Message}";
            job.Update(s => s with { State = TrainingJobState.Failed, FinishedAt = clock.GetUtcNow(), Error = message });
            logger.LogError(ex is PipelineException ? null : ex, "Training job {Job} failed: {Error}", job.Id, message);
        }
    }

    private sealed class JobProgress(TrainingJob job) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => job.Update(s => s with { Stage = value.Stage, Progress = Math.Round(value.Fraction, 3) });
    }
}
