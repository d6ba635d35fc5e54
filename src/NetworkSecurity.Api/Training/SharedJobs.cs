using System.Text.Json;
using Amazon.Runtime;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Training;

/// <summary>
/// Another replica's job as its record says, or why the shared store could not be asked (both null: no such job);
/// <paramref name="Unreadable"/> when the store answered with a record that is not the job's.
/// </summary>
public sealed record SharedJobLookup(TrainingJobStatus? Status, string? Error, bool Unreadable = false);

/// <summary>
/// Shares this replica's training jobs with the others through object storage (<see cref="S3JobBoard"/>): behind a load
/// balancer, the GET /train/{id} that polls a job reaches any replica, and only the one running it knew the job (a 404
/// two times in three with three replicas). Once a second it writes the jobs whose status changed (a status is an
/// immutable record replaced on every change, so a new reference is a change), and rewrites a job still running or
/// publishing every third of the lease time, so a record that stops being rewritten tells the others its replica is
/// gone. Without object storage it does nothing: jobs are this replica's alone.
/// </summary>
public sealed class SharedJobs : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FinalWriteTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan SettleWait = TimeSpan.FromSeconds(1); // of the final write's 3 s
    private readonly TrainingJobQueue _queue;
    private readonly ITrainingLease _lease;
    private readonly JsonSerializerOptions _json;
    private readonly TimeProvider _clock;
    private readonly ILogger<SharedJobs> _logger;
    private readonly S3JobBoard? _board;
    private readonly TimeSpan _heartbeat;
    private readonly TimeSpan _stale;
    private readonly Dictionary<string, (TrainingJobStatus Status, DateTimeOffset At)> _written = new(StringComparer.Ordinal);
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal);
    // Not disposed: it never allocates a wait handle, and a host may stop its services after disposing them.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private volatile bool _disposed;
    private bool _pruneFailing; // under _writing

    public SharedJobs(TrainingJobQueue queue, SharedStorage storage, ITrainingLease lease, IOptions<ReplicationOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider clock, ILogger<SharedJobs> logger)
    {
        _queue = queue;
        _lease = lease;
        _json = json.Value.SerializerOptions;
        _clock = clock;
        _logger = logger;
        _board = storage.S3 is { } s3 ? new S3JobBoard(s3, (lease as S3TrainingLease)?.Clock) : null;
        _heartbeat = TimeSpan.FromSeconds(options.Value.LeaseSeconds / 3.0);
        _stale = TimeSpan.FromSeconds(options.Value.LeaseSeconds * 2.0);
    }

    public bool IsShared => _board is not null;

    /// <summary>s3://bucket/prefix/jobs/, or null without object storage.</summary>
    public string? Location => _board?.Location;

    /// <summary>A job this replica does not know, as the replica running it last recorded it.</summary>
    public async Task<SharedJobLookup> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (_board is null || !S3JobBoard.IsJobId(id))
        {
            return new SharedJobLookup(null, null);
        }

        return await AskAsync(async token =>
        {
            var record = await ReadAsync(id, token).ConfigureAwait(false);
            return record switch
            {
                null => new SharedJobLookup(null, null),
                { Status: { } status } => new SharedJobLookup(status, null),
                // Torn reads happen while a replica rewrites its record, which it does at least every third of the lease
                // time: a record still unreadable after twice the lease time was left so, and a 503 would last for ever.
                { Why: var why, LastModified: var modified } when modified != DateTimeOffset.MinValue && _lease.UtcNow - modified > _stale => new SharedJobLookup(Unknown(id, why!, modified), null),
                { Why: var why } => new SharedJobLookup(null, $"{_board.Location}{id}.json is not a training job record ({why})", Unreadable: true),
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    // A lookup in the store within LookupTimeout; the store not answering, or failing, is said in the lookup's error.
    private async Task<SharedJobLookup> AskAsync(Func<CancellationToken, Task<SharedJobLookup>> lookup, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LookupTimeout);
        try
        {
            return await lookup(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SharedJobLookup(null, $"{_board!.Location} did not answer within {LookupTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            return new SharedJobLookup(null, $"{_board!.Location}: {ex.Message}");
        }
    }

    /// <summary>
    /// The most recently queued job of all replicas (<paramref name="local"/>, this replica's own, or one another replica
    /// recorded), as GET /train/{id} gives it: behind a load balancer, the GET /train after a POST /train may reach
    /// another replica. Without object storage, <paramref name="local"/>.
    /// </summary>
    public async Task<SharedJobLookup> LatestAsync(TrainingJobStatus? local, CancellationToken cancellationToken)
    {
        if (_board is null)
        {
            return new SharedJobLookup(local, null);
        }

        return await AskAsync(async token =>
        {
            var latest = local;
            foreach (var (id, modified) in await _board.ListAsync(token).ConfigureAwait(false))
            {
                // Most recently written first, and a job's record is written as it is queued: one written well before the
                // latest job so far was created (the margin for the replicas' clocks against the store's) is of an older job.
                if (latest is not null && modified < latest.CreatedAt - _stale)
                {
                    break;
                }

                if (id == local?.Id)
                {
                    continue; // this replica's own is fresher than its record
                }

                // A record that cannot be read (torn, or not a job's) says nothing of when its job was queued: skipped.
                if (await ReadAsync(id, token).ConfigureAwait(false) is { Status: { } status } && (latest is null || status.CreatedAt > latest.CreatedAt))
                {
                    latest = status;
                }
            }

            return new SharedJobLookup(latest, null);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsStoreError(Exception ex) => ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or System.Net.Sockets.SocketException;

    /// <summary>A job's record as read: its status (lapsed when its replica stopped rewriting it), or why it is not one.</summary>
    private sealed record StoredStatus(TrainingJobStatus? Status, string? Why, DateTimeOffset LastModified);

    // Null when the store has no record. A torn record (a store whose overwrites are not atomic, read while the owner
    // rewrites it) is read again.
    private async Task<StoredStatus?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await _board!.ReadAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored)
            {
                return null;
            }

            var (status, why) = Parse(stored.Json, id);
            if (status is not null)
            {
                return new StoredStatus(Lapsed(status, stored.LastModified), null, stored.LastModified);
            }

            if (attempt == 3)
            {
                return new StoredStatus(null, why, stored.LastModified);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    // A record that is not a job's and was not rewritten for twice the lease time: no replica runs that job any more, and
    // nothing says how it ended.
    private TrainingJobStatus Unknown(string id, string why, DateTimeOffset lastModified) => new(
        id, TrainingJobState.Failed, "unknown: its record is unreadable", lastModified, null, lastModified, PipelineStage.Queued, 0, null,
        $"The job's record {_board!.Location}{id}.json is not a training job record ({why}) and was last written at {lastModified:u}: no replica rewrote it since, so how the job ended is unknown. Remove or replace the record.");

    // The job's record, or why it is not: what a replica writes, checked as far as a client of GET /train/{id} relies on
    // it (another job's record, a state outside the enum, no reason were served as they stood, "state": 7 included).
    private (TrainingJobStatus? Status, string? Why) Parse(byte[] json, string id)
    {
        TrainingJobStatus? status;
        try
        {
            status = JsonSerializer.Deserialize<TrainingJobStatus>(json, _json);
        }
        catch (JsonException ex)
        {
            return (null, json.Length == 0 ? "it is empty" : $"not its JSON: {ex.Message}");
        }

        return status switch
        {
            null => (null, "it is the JSON null"),
            { Id: var other } when other != id => (null, other is null ? "it names no job" : $"it records job {(other.Length <= 40 ? other : other[..40] + "…")}"),
            { State: var state } when !Enum.IsDefined(state) => (null, $"its state {(int)state} is not a job state"),
            { Stage: var stage } when !Enum.IsDefined(stage) => (null, $"its stage {(int)stage} is not a pipeline stage"),
            { Publication.State: var published } when !Enum.IsDefined(published) => (null, $"its publication state {(int)published} is not one"),
            { Reason: null } => (null, "it has no reason"),
            _ => (status, null),
        };
    }

    // A record not rewritten for twice the lease time while its job ran or published: the replica stopped (killed,
    // or cut off from the store) without saying so. Said on the record rather than left "running" for ever.
    private TrainingJobStatus Lapsed(TrainingJobStatus status, DateTimeOffset lastModified)
    {
        if (Settled(status) || _lease.UtcNow - lastModified <= _stale)
        {
            return status;
        }

        var why = $"replica {status.Replica ?? "?"} stopped reporting on this job at {lastModified:u} (stopped, or cut off from the shared store)";
        return status.State is TrainingJobState.Queued or TrainingJobState.Running
            ? status with { State = TrainingJobState.Failed, FinishedAt = lastModified, Error = $"The job's {why}; it did not finish." }
            : status with { Publication = new PublicationStatus(PublicationState.Failed, status.Publication?.Attempts ?? 0, $"Publication unknown: the {why}.", null) };
    }

    // Nothing more will change: over, and published or not to be. A succeeded job always gets a publication with object
    // storage (local_only without): one without is between its outcome and its publication, and a record left so (its
    // replica stopped in between) was shown "succeeded" with no publication for good, never lapsed.
    private static bool Settled(TrainingJobStatus status) => status.State switch
    {
        TrainingJobState.Failed => status.Publication is null || status.Publication.IsFinal,
        TrainingJobState.Succeeded => status.Publication is { IsFinal: true },
        _ => false,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_board is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(Tick, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await ShareChangesAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // Registered before the training worker, so it stops after it: the job a shutdown stopped is recorded as failed.
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_board is null || _disposed)
        {
            return;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(FinalWriteTimeout);
        try
        {
            // The publisher has stopped, so every publication is over, but a job shows its last state only once its lease
            // is released (a store call): recorded before that, a SIGTERM's job read "succeeded" without publication.
            var settling = _clock.GetUtcNow() + SettleWait;
            while (_queue.All.Any(job => job.Status is { State: TrainingJobState.Succeeded } status && !Settled(status)) && _clock.GetUtcNow() < settling)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _clock, bounded.Token).ConfigureAwait(false);
            }

            await ShareChangesAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The others read it as lapsed once the record is old enough.
        }
    }

    /// <summary>
    /// Records a job just queued before the client hears of it: its next request (GET /train/{id}, which a load balancer
    /// may send to another replica) must find it. Bounded; if the store does not take it now, the next tick retries.
    /// </summary>
    public async Task ShareNowAsync()
    {
        if (_board is null || _disposed)
        {
            return;
        }

        using var bounded = new CancellationTokenSource(FinalWriteTimeout);
        try
        {
            await ShareChangesAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ShareChangesAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _clock.GetUtcNow();
            var jobs = _queue.All;
            foreach (var job in jobs)
            {
                var status = job.Status;
                var known = _written.TryGetValue(status.Id, out var last);
                var changed = !known || !ReferenceEquals(last.Status, status);
                if (!changed && (Settled(status) || now - last.At < _heartbeat))
                {
                    continue;
                }

                try
                {
                    await _board!.WriteAsync(status.Id, JsonSerializer.SerializeToUtf8Bytes(status, _json), cancellationToken).ConfigureAwait(false);
                    _written[status.Id] = (status, now);
                    if (_failing.Remove(status.Id))
                    {
                        _logger.LogInformation("Training job {Job} is recorded in {Location} again", status.Id, _board.Location);
                    }

                    if (Settled(status))
                    {
                        await PruneAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // Whatever the store or the network threw (a refused connection surfaces as a bare SocketException):
                    // this loop must not end, or the host stops with it. Retried at the next tick (the status is still
                    // not the one written); said once, not every second.
                    if (_failing.Add(status.Id))
                    {
                        _logger.LogWarning("Could not record training job {Job} in {Location} ({Error}): other replicas cannot answer for it until it is; retrying", status.Id, _board!.Location, ex.Message);
                    }
                }
            }

            // Jobs the queue no longer keeps are not written again.
            foreach (var id in _written.Keys.Where(id => !jobs.Any(j => j.Id == id)).ToList())
            {
                _written.Remove(id);
                _failing.Remove(id);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    // Apart from the record's write: a store that takes records but refuses to list or delete them (a policy without
    // s3:ListBucket) was said not to have the record ("other replicas cannot answer for it"), though it had. Said once.
    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _board!.PruneAsync(TrainingJobQueue.JobsKept, cancellationToken).ConfigureAwait(false);
            _pruneFailing = false;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (!_pruneFailing)
            {
                _pruneFailing = true;
                _logger.LogWarning("Could not remove old training job records from {Location} ({Error}): more than the last {Kept} are kept until it can", _board!.Location, ex.Message, TrainingJobQueue.JobsKept);
            }
        }
    }

    public override void Dispose()
    {
        _disposed = true;
        _board?.Dispose();
        base.Dispose();
    }
}
