using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline.Storage;

namespace NetworkSecurity.Api.Replication;

public enum PublicationState
{
    /// <summary>Waiting for its first upload attempt.</summary>
    Pending,

    /// <summary>An attempt failed; the next one is scheduled (backoff).</summary>
    Retrying,

    Published,

    /// <summary>Every attempt within Replication:PublishRetrySeconds failed; the model stays local.</summary>
    Failed,

    /// <summary>No object storage is configured.</summary>
    LocalOnly,
}

/// <summary>Whether a run's model and artifacts reached object storage (GET /train/{id} → publication).</summary>
public sealed record PublicationStatus(PublicationState State, int Attempts, string Message, DateTimeOffset? PublishedAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinal => State is PublicationState.Published or PublicationState.Failed or PublicationState.LocalOnly;
}

/// <summary>
/// The web host's artifact store: the pipeline's publish call only queues the upload and returns, so the replica that
/// trained serves its new model as soon as it is promoted locally. Uploads (model files, then LATEST, then the run's
/// artifacts) run here in the background, retried with exponential backoff (1 s, 2 s, … up to 60 s) for up to
/// Replication:PublishRetrySeconds.
/// </summary>
public sealed class BackgroundPublisher(
    IArtifactStore inner,
    IOptions<ReplicationOptions> options,
    TimeProvider clock,
    ILogger<BackgroundPublisher> logger) : BackgroundService, IArtifactStore
{
    private const int RunsKept = 50;
    // Bounded: training runs one job at a time, so a full queue means uploads have been failing for a long while.
    private readonly Channel<Publication> _queue = Channel.CreateBounded<Publication>(new BoundedChannelOptions(RunsKept) { SingleReader = false, FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<string, Publication> _runs = new(StringComparer.Ordinal);
    private volatile bool _stopping;

    public string Description => inner.Description;

    public bool IsConfigured => inner is not NoArtifactStore;

    public IArtifactStore Inner => inner;

    public Task<SyncResult> PublishAsync(string runArtifactsDirectory, string timestamp, string? promotedModelDirectory, CancellationToken cancellationToken)
    {
        if (!IsConfigured)
        {
            return inner.PublishAsync(runArtifactsDirectory, timestamp, promotedModelDirectory, cancellationToken);
        }

        var publication = new Publication(runArtifactsDirectory, timestamp, promotedModelDirectory,
            new PublicationStatus(PublicationState.Pending, 0, $"queued for publication to {inner.Description}", null));
        _runs[timestamp] = publication;
        foreach (var old in _runs.Keys.OrderDescending(StringComparer.Ordinal).Skip(RunsKept))
        {
            _runs.TryRemove(old, out _);
        }

        if (!_queue.Writer.TryWrite(publication))
        {
            // Refused also once the service stops (the queue is closed): a run that a SIGTERM let finish was said to wait
            // behind 50 failing publications, in an error.
            var refused = _stopping
                ? "the service stopped before the publication started; the next start publishes its model if it is still served"
                : $"not queued: {RunsKept} publications to {inner.Description} are still waiting (the store has been failing); the model stays local";
            publication.Set(new PublicationStatus(PublicationState.Failed, 0, refused, null));
            logger.Log(_stopping ? LogLevel.Warning : LogLevel.Error, "Run {Run} NOT published: {Reason}", timestamp, refused);
            return Task.FromResult(new SyncResult(false, 0, 0, refused));
        }

        // "Synced" here means handed over: the job's publication field says when the uploads are done.
        return Task.FromResult(new SyncResult(true, 0, 0, $"queued for upload to {inner.Description} in the background (the job's publication says when they are there)"));
    }

    public Task<bool> TryPullLatestModelAsync(string finalModelDirectory, Action<string> verify, CancellationToken cancellationToken) =>
        inner.TryPullLatestModelAsync(finalModelDirectory, verify, cancellationToken);

    /// <summary>The publication of a run, or null when none was queued (no object storage, or the run failed).</summary>
    public Publication? Find(string runId) => _runs.TryGetValue(runId, out var publication) ? publication : null;

    /// <summary>Whether the model of this version, promoted here, is still on its way to object storage.</summary>
    public bool IsPublishing(string version) => _runs.Values.Any(p => !p.Status.IsFinal
        && (p.RunId == version || (p.ModelDirectory is { } folder && Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)) == version)));

    /// <summary>How long an upload under way may go on once the service stops: cut at once, it left the version's files
    /// without LATEST (the restart then republishes it, but replicas waited meanwhile).</summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var uploads = new CancellationTokenSource();
        using var grace = stoppingToken.Register(() => uploads.CancelAfter(ShutdownGrace));
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                // Once stopping, what is still queued is left to StopAsync (ReadAllAsync would go on handing items out).
                while (!stoppingToken.IsCancellationRequested && _queue.Reader.TryRead(out var publication))
                {
                    await PublishWithRetriesAsync(publication, stoppingToken, uploads.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, also when the host failed to start (a port in use): not an error to log.
        }
    }

    private void Stopped(Publication publication, int attempt)
    {
        publication.Set(new PublicationStatus(PublicationState.Failed, attempt, "the service stopped before the publication finished", null));
        logger.LogWarning("Run {Run} NOT published to {Store}: the service stopped first (within {Grace:0} s); the next start publishes its model if it is still served",
            publication.RunId, inner.Description, ShutdownGrace.TotalSeconds);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // Publications still queued end now, so whoever waits on them (the training lease) does not wait for nothing;
        // also when the service stops before the reading loop ever started.
        _stopping = true;
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
        {
            left.Set(new PublicationStatus(PublicationState.Failed, 0, "the service stopped before the publication started", null));
        }
    }

    // Attempts run on uploadToken (the service's stop plus a grace period); no new attempt starts once the service stops.
    private async Task PublishWithRetriesAsync(Publication publication, CancellationToken stoppingToken, CancellationToken uploadToken)
    {
        var deadline = clock.GetUtcNow().AddSeconds(options.Value.PublishRetrySeconds);
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            SyncResult result;
            try
            {
                result = await inner.PublishAsync(publication.RunDirectory, publication.RunId, publication.ModelDirectory, uploadToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (uploadToken.IsCancellationRequested)
            {
                Stopped(publication, attempt);
                return;
            }
            catch (Exception ex)
            {
                result = new SyncResult(false, 0, 0, $"{ex.GetType().Name}: {ex.Message}");
            }

            if (result.Synced)
            {
                publication.Set(new PublicationStatus(PublicationState.Published, attempt, result.Message, clock.GetUtcNow()));
                logger.LogInformation("Run {Run} published to {Store} (attempt {Attempt}): {Message}", publication.RunId, inner.Description, attempt, result.Message);
                return;
            }

            if (clock.GetUtcNow() + delay > deadline)
            {
                publication.Set(new PublicationStatus(PublicationState.Failed, attempt, $"gave up after {attempt} attempt(s): {result.Message}", null));
                logger.LogError("Run {Run} NOT published to {Store} after {Attempts} attempt(s); the model stays local: {Message}", publication.RunId, inner.Description, attempt, result.Message);
                return;
            }

            publication.Set(new PublicationStatus(PublicationState.Retrying, attempt, $"attempt {attempt} failed, retrying in {delay.TotalSeconds:0} s: {result.Message}", null));
            logger.LogWarning("Publishing run {Run} to {Store} failed (attempt {Attempt}), retrying in {Delay:0} s: {Message}", publication.RunId, inner.Description, attempt, delay.TotalSeconds, result.Message);
            try
            {
                await Task.Delay(delay, clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Stopped(publication, attempt);
                return;
            }

            delay = TimeSpan.FromSeconds(Math.Min(60, delay.TotalSeconds * 2));
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        (inner as IDisposable)?.Dispose(); // the S3 store's client: this publisher is its only owner
    }

    /// <summary>One run's publication: its status now, change notifications and completion.</summary>
    public sealed class Publication(string runDirectory, string runId, string? modelDirectory, PublicationStatus initial)
    {
        private readonly TaskCompletionSource<PublicationStatus> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private PublicationStatus _status = initial;

        public string RunDirectory => runDirectory;

        public string RunId => runId;

        public string? ModelDirectory => modelDirectory;

        public PublicationStatus Status => Volatile.Read(ref _status);

        public Task<PublicationStatus> Completion => _done.Task;

        public event Action<PublicationStatus>? Changed;

        internal void Set(PublicationStatus status)
        {
            Volatile.Write(ref _status, status);
            Changed?.Invoke(status);
            if (status.IsFinal)
            {
                _done.TrySetResult(status);
            }
        }
    }
}
