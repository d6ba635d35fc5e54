using System.Diagnostics;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Training;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Replication;

/// <summary>
/// Makes every replica follow the promoted model: when object storage is configured, checks final_model/LATEST every
/// Replication:PollSeconds with a conditional GET, downloads a newer version into a staging folder, verifies it against
/// the publisher's SHA-256 manifest and that it loads, then moves it into final_model/ and swaps it in (requests in flight
/// finish on the model they started with). Never goes back to an older version; an unusable version is ignored with one
/// error until LATEST changes; an outage is logged once and the current model is kept.
/// </summary>
public sealed class ModelSyncService(
    SharedStorage storage,
    LiveModel live,
    ModelOrigin origins,
    StoreLatest latest,
    ModelFolderGate folderGate,
    TrainingJobQueue queue,
    TrainingCoordinator coordinator,
    BackgroundPublisher publisher,
    IOptions<ReplicationOptions> options,
    IOptions<ApiOptions> apiOptions,
    PipelineOptions pipeline,
    ILogger<ModelSyncService> logger) : BackgroundService
{
    // Versions this process has already republished (PublishIfNeverPublishedAsync): once per version.
    private readonly HashSet<string> _resumed = new(StringComparer.Ordinal);

    private string? _lastProblem;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (storage.S3 is not { } s3)
            {
                logger.LogInformation("Model sync off: no object storage (S3_BUCKET not set), so this replica serves only models trained or placed here");
                return;
            }

            await Task.Yield();
            using var source = new S3ModelSource(s3);
            var poll = TimeSpan.FromSeconds(options.Value.PollSeconds);
            logger.LogInformation("Model sync: following {Latest} every {Seconds} s", source.Describe("LATEST"), poll.TotalSeconds);
            await DescribeLeaseAsync(stoppingToken).ConfigureAwait(false);

            string? etag = null;
            string? etagServing = null; // the model served when etag was read
            string? outage = null;
            LatestInStore? beforeOutage = null, duringOutage = null;
            using var timer = new PeriodicTimer(poll);
            do
            {
                // When this poll began: an outage it finds began then, not when it gave up (a store that stopped
                // answering was said to be unreadable only since the end of the poll's wait, MaxSyncTime later).
                var pollStarted = DateTimeOffset.UtcNow;
                try
                {
                    using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    budget.CancelAfter(s3.MaxSyncTime);
                    // A known ETag only stands for "nothing to do" while the same model is served. Once this replica serves
                    // another one (it trained and promoted it), LATEST may have moved on and come back to the very bytes of
                    // that ETag (v1, v2, v1 by hand) between two polls, e.g. while its publication waited out an outage: a
                    // conditional GET would then answer 304 for ever and the older pointer would never be seen.
                    var serving = live.Current?.Version;
                    var known = serving == etagServing ? etag : null;
                    etag = await SyncOnceAsync(source, known, budget.Token).ConfigureAwait(false);
                    etagServing = serving;
                    if (outage is not null)
                    {
                        logger.LogInformation("Model sync: {Store} answers again (the outage was: {Error})", source.Description, outage);
                        outage = null;
                        if (ReferenceEquals(latest.Current, duringOutage))
                        {
                            latest.Set(beforeOutage); // LATEST unchanged (304): what was known before holds again
                        }
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not ModelVerificationException)
                {
                    // S3 down, wrong credentials, garbage answers: keep the model, log once per outage, retry at the next poll.
                    if (outage is null)
                    {
                        outage = ex is OperationCanceledException ? $"no answer within {s3.MaxSyncTime.TotalSeconds:0} s" : ex.Message;
                        // Readiness and /model say it too: a replica with wrong credentials, say, otherwise stayed on its
                        // model for good while reading healthy, and said why once, in its start-up log.
                        beforeOutage = latest.Current;
                        duringOutage = new LatestInStore(source.Describe("LATEST"), null,
                            $"the store cannot be read since {pollStarted:yyyy-MM-dd HH:mm:ss}Z ({outage}): a newer version would not be seen");
                        latest.Set(duringOutage);
                        logger.LogWarning("Model sync: {Store} is unreachable or failing ({Error}); keeping model {Version} and retrying every {Seconds} s", source.Description, outage, live.Current?.Version ?? "(none)", poll.TotalSeconds);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, also when the host failed to start (a port in use): not an error to log.
        }
    }

    private async Task DescribeLeaseAsync(CancellationToken cancellationToken)
    {
        if (coordinator.Lease is not S3TrainingLease lease)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await lease.ProbeAsync(timeout.Token).ConfigureAwait(false);
            logger.LogInformation("Training lease: {Lease}", lease.Description);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Training lease: could not probe {Location} yet ({Error}); probed again when training starts", lease.Location, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Stopping while the probe ran: whatever it failed with then is moot, and escaping here it failed the
            // whole background service with an error and a stack trace at every shutdown of a replica whose store was down.
        }
    }

    private async Task<string?> SyncOnceAsync(S3ModelSource source, string? etag, CancellationToken cancellationToken)
    {
        LatestPointer pointer;
        try
        {
            pointer = await source.CheckLatestAsync(etag, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelVerificationException ex)
        {
            latest.Set(new LatestInStore(source.Describe("LATEST"), null, ex.Message));
            ReportProblem($"Model sync: {ex.Message}; keeping model {live.Current?.Version ?? "(none)"}");
            return etag;
        }

        switch (pointer.State)
        {
            case LatestState.Unchanged:
                return etag;
            case LatestState.Missing:
                latest.Set(new LatestInStore(source.Describe("LATEST"), null, null));
                if (live.Current is { } served)
                {
                    await PublishIfNeverPublishedAsync(source, served.Version, "no LATEST", cancellationToken).ConfigureAwait(false);
                }

                await TrainFirstModelIfNoneAsync(source, cancellationToken).ConfigureAwait(false);
                return null;
        }

        await folderGate.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await FollowAsync(source, pointer, etag, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            folderGate.Lock.Release();
        }
    }

    private async Task<string?> FollowAsync(S3ModelSource source, LatestPointer pointer, string? etag, CancellationToken cancellationToken)
    {
        var version = pointer.Version!;
        var current = live.Current?.Version;
        void Say(string? notServedBecause, bool unusable = false) => latest.Set(new LatestInStore(source.Describe("LATEST"), version, notServedBecause, unusable));
        if (current is not null && string.CompareOrdinal(version, current) <= 0)
        {
            Say(version == current ? null : $"older than the served {current}");
            if (string.CompareOrdinal(version, current) < 0)
            {
                if (publisher.IsPublishing(current) || queue.Active is not null)
                {
                    Say(queue.Active is not null
                        ? $"older than the served {current}; a training run is under way here (it publishes its model): looked at again after it"
                        : $"older than the served {current}, trained here and still being published");
                    // Trained here and not in LATEST yet (e.g. its upload waits out an outage): nothing wrong. No ETag
                    // kept, so LATEST is read in full until it names this model or someone points it back by hand.
                    return null;
                }

                if (await PublishIfNeverPublishedAsync(source, current, $"LATEST names the older {version}", cancellationToken).ConfigureAwait(false))
                {
                    Say($"older than the served {current}, whose publication was cut short: publishing it now");
                    return null;
                }

                Say($"older than the served {current}: a replica never goes back (to roll back, publish the older model again as a new version)");
                ReportProblem($"Model sync: LATEST names {version}, older than the served {current}: a replica never goes back, keeping {current}", error: false);
            }

            return pointer.ETag;
        }

        if (queue.Active is not null)
        {
            Say("a training run is under way here; looked at again after it");
            return etag; // training here: do not race its promotion; look again at the next poll
        }

        if (live.Store.CurrentVersion == version && live.TryReload())
        {
            Say(live.Current?.Version == version ? null : live.Status.Reason);
            origins.Record(version, $"shared model folder {live.Store.Directory}");
            return pointer.ETag; // another replica sharing this folder promoted or pulled it already
        }

        var staging = live.Store.NewDownloadFolder();
        var watch = Stopwatch.StartNew();
        try
        {
            var files = await source.DownloadVersionAsync(version, staging, ModelStore.BundleFileName, cancellationToken).ConfigureAwait(false);
            // Checked as the reload after adopting will check it: the version's own manifest.json too, and this schema. The
            // bundle alone passed a version whose files matched the store's manifest but not manifest.json (replaced under
            // the same name): it was adopted, CURRENT named it, the reload fell back to the older model (readiness
            // Degraded) and the log said "serving model <new>".
            _ = ModelStore.LoadVerified(staging, live.Schema);
            if (queue.Active is not null || (live.Current?.Version is { } now && string.CompareOrdinal(version, now) <= 0))
            {
                return etag; // something newer arrived meanwhile
            }

            live.Store.Adopt(staging, version);
            origins.Record(version, $"synced from {source.Describe(version + "/")}");
            if (!live.TryReload())
            {
                Say("downloaded, but it could not be loaded", unusable: true);
                ReportProblem($"Model sync: model {version} was downloaded but could not be loaded; keeping {current ?? "(none)"}");
                return pointer.ETag;
            }

            Say(null);
            _lastProblem = null;
            logger.LogInformation("Model sync: serving model {Version} from {Source} (was {Previous}): {Files} files downloaded and SHA-256 verified in {Elapsed:0} ms",
                version, source.Description, current ?? "none", files, watch.Elapsed.TotalMilliseconds);
            return pointer.ETag;
        }
        catch (Exception ex) when (ex is ModelVerificationException or PipelineException or InvalidDataException)
        {
            // Ignored until LATEST changes: the same broken version is not downloaded at every poll. Said with the store's
            // location, not the download folder the message names (removed by now).
            Say($"unusable, ignored until LATEST changes: {ModelStore.Unstaged(ex.Message, staging, version)}", unusable: true);
            ReportProblem($"Model sync: LATEST names {version} but it is unusable, ignored until LATEST changes ({source.Describe(version + "/")}: {ModelStore.Unstaged(ex.Message, staging, version)}); keeping {current ?? "(none)"}");
            return pointer.ETag;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>
    /// Publishes the served version when LATEST does not name it (missing, or an older version) and its publication never
    /// finished: a model trained here whose publication a restart or shutdown cut short (publications are queued in
    /// memory), before its model files were all uploaded, or after, before LATEST and the run's artifacts. Without this
    /// the fleet stayed split for good: this replica kept its newer model, the others the older LATEST. A publication
    /// that did finish (the run's artifacts are in the store) is not redone: LATEST pointed back at an older version
    /// then is an operator's rollback, left alone. Files already in the store are not sent again. Once per version and
    /// process.
    /// </summary>
    private async Task<bool> PublishIfNeverPublishedAsync(S3ModelSource source, string version, string why, CancellationToken cancellationToken)
    {
        // A run under way here publishes its own model once it has been tracked: its model is served from promotion on,
        // and a poll in between (MLflow's tracking can take up to a minute) took it for a publication cut short and sent
        // it, its run's artifacts half written, beside the run's own publication.
        if (!publisher.IsConfigured || publisher.IsPublishing(version) || queue.Active is not null || !_resumed.Add(version))
        {
            return false;
        }

        var missing = await source.VersionProblemAsync(version, ModelStore.BundleFileName, cancellationToken).ConfigureAwait(false);
        if (missing is null && await source.RunPublishedAsync(version, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var artifacts = Path.Combine(pipeline.ArtifactsRoot, version);
        logger.LogWarning("Model sync: the served {Version} {State} in {Store} and {Why}: publishing it now (its publication was cut short, by a restart perhaps)",
            version, missing is null ? "is complete" : $"is not complete ({missing})", source.Describe(""), why);
        await publisher.PublishAsync(artifacts, version, Path.Combine(live.Store.Directory, version), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Nothing published and nothing served: someone must train (the lease decides who).</summary>
    private async Task TrainFirstModelIfNoneAsync(S3ModelSource source, CancellationToken cancellationToken)
    {
        // Only a replica that never ran a job here: one whose own run failed does not retry at every poll.
        if (live.Current is not null || queue.Latest is not null || !apiOptions.Value.TrainOnStartup)
        {
            return;
        }

        var request = await coordinator.RequestAsync("no model yet and none published", cancellationToken).ConfigureAwait(false);
        if (request.Job is { Status.State: TrainingJobState.Queued } job && request.Created)
        {
            logger.LogInformation("Model sync: no model published and none here: queued training job {Job}", job.Id);
        }
        else if (request.HeldBy is { } holder)
        {
            // Readiness said only "no model loaded (no model loaded yet)" while another replica trained the first model.
            latest.Set(new LatestInStore(source.Describe("LATEST"), null,
                $"nothing published yet: replica {holder.Holder} is training (job {holder.JobId}); its model is loaded here once published"));
        }
    }

    private void ReportProblem(string message, bool error = true)
    {
        if (message == _lastProblem)
        {
            return;
        }

        _lastProblem = message;
        // A value, not a template: a message holding braces (a store's JSON error) would be parsed as placeholders.
        logger.Log(error ? LogLevel.Error : LogLevel.Warning, "{Problem}", message);
    }
}

/// <summary>The object storage replicas share, or none (S3 null).</summary>
public sealed record SharedStorage(NetworkSecurity.Storage.S3Options? S3);
