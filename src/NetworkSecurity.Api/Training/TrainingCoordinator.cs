using NetworkSecurity.Api.Replication;
using Microsoft.Extensions.Options;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Training;

/// <summary>What a request to train got: a job (new or the active one), or the holder of the lease, or an error.</summary>
public sealed record TrainingRequest(TrainingJob? Job, bool Created, LeaseHolder? HeldBy, string? Error);

/// <summary>
/// Starts training runs: at most one job per replica (asking again returns it) and, through the training lease, one
/// trainer across replicas. The lease is taken before the job is queued and held until its publication is done.
/// </summary>
public sealed class TrainingCoordinator(
    TrainingJobQueue queue,
    ITrainingLease lease,
    IOptions<ReplicationOptions> options,
    TimeProvider clock,
    ILogger<TrainingCoordinator> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string ReplicaId => options.Value.ResolvedReplicaId;

    public ITrainingLease Lease => lease;

    /// <summary>How long a request may wait for the lease store, the wait behind other requests included.</summary>
    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(15);

    private string? _lastRefusedJob;

    public async Task<TrainingRequest> RequestAsync(string reason, CancellationToken cancellationToken)
    {
        // One budget for the whole request, its wait for the gate included: while the store did not answer, requests sent
        // together queued behind one another and each then spent 15 s of its own (the fourth of four answered after 60 s).
        var deadline = clock.GetUtcNow() + LeaseTimeout;
        using var budget = new CancellationTokenSource(LeaseTimeout, clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        var waited = $"no answer within {LeaseTimeout.TotalSeconds:0} s (another request was waiting for the store)";
        try
        {
            await _gate.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Unavailable(waited);
        }

        try
        {
            if (queue.Active is { } active)
            {
                return new TrainingRequest(active, false, null, null);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (budget.IsCancellationRequested || clock.GetUtcNow() >= deadline) // the clock: its timer may not have fired yet
            {
                return Unavailable(waited); // spent behind the request before: not another wait for the store
            }

            var job = new TrainingJob(reason, lease.UtcNow, ReplicaId);
            LeaseAttempt attempt;
            try
            {
                attempt = await TryAcquireWithRetriesAsync(job.Id, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                return Unavailable(ex is OperationCanceledException ? $"no answer within {LeaseTimeout.TotalSeconds:0} s" : ex.Message);
            }

            if (!attempt.Acquired)
            {
                // Once per holder's job: a replica waiting for another's first model asks at every poll, and said so
                // in a log line each time.
                var level = Interlocked.Exchange(ref _lastRefusedJob, attempt.HeldBy?.JobId) == attempt.HeldBy?.JobId ? LogLevel.Debug : LogLevel.Information;
                logger.Log(level, "Training not started: the lease is held by {Holder} (job {Job}) until {Expiry:u}", attempt.HeldBy?.Holder, attempt.HeldBy?.JobId, attempt.HeldBy?.ExpiresAt);
                return new TrainingRequest(null, false, attempt.HeldBy, null);
            }

            // Stamped on the lease's clock, the store's when replicas share one (its answers to the lease just set it): GET /train
            // picks the most recent job of all replicas by this time, and a replica whose own clock ran an hour behind
            // had its new job taken for older than another's of minutes before.
            job.Update(s => s with { CreatedAt = lease.UtcNow });
            job.Lease = new LeaseKeeper(lease, attempt.Ticket!, logger, lost => job.Update(s => s with { LeaseWarning = lost }));
            queue.Add(job);
            logger.LogInformation("Training job {Job} queued ({Reason}); this replica ({Replica}) holds the training lease", job.Id, reason, ReplicaId);
            return new TrainingRequest(job, true, null, null);
        }
        finally
        {
            _gate.Release();
        }
    }

    private TrainingRequest Unavailable(string message)
    {
        logger.LogWarning("Could not take the training lease ({Lease}): {Error}", lease.Description, message);
        return new TrainingRequest(null, false, null, $"The training lease could not be taken: {message}");
    }

    // More tries for a passing store error (two replicas writing the lease object at once can make a store without
    // atomic PUTs fail both); each after a random pause, so two replicas that failed together do not retry together.
    // A lasting error fails every try and reaches the caller; a store that cannot be reached at all reaches it at once
    // (the S3 client has already retried the connection), so the client hears why in seconds, not after 15.
    private async Task<LeaseAttempt> TryAcquireWithRetriesAsync(string jobId, CancellationToken cancellationToken)
    {
        const int tries = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await lease.TryAcquireAsync(jobId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or LeaseStoreUnreachableException) && attempt < tries)
            {
                logger.LogInformation("Taking the training lease failed ({Error}); trying again ({Attempt} of {Tries})", ex.Message, attempt + 1, tries);
                await Task.Delay(TimeSpan.FromMilliseconds(150 + Random.Shared.Next(500)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Queues a job without the lease: only when a replica without any model cannot reach the lease store.</summary>
    public async Task<TrainingJob> EnqueueWithoutLeaseAsync(string reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (queue.Active is { } active)
            {
                return active;
            }

            var job = new TrainingJob(reason, lease.UtcNow, ReplicaId);
            queue.Add(job);
            return job;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
