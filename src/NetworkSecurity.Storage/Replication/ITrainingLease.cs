namespace NetworkSecurity.Storage.Replication;

/// <summary>
/// "Only one replica trains at a time": a lease with an expiry, renewed while its holder trains and publishes, so a
/// killed holder's lease lapses by itself.
/// </summary>
public interface ITrainingLease
{
    /// <summary>Where the lease lives and how it is taken, for the start-up log.</summary>
    string Description { get; }

    /// <summary>Where the lease lives, for messages (the S3 lease: s3://bucket/key).</summary>
    string Location => Description;

    /// <summary>True when replicas share the lease (false: the lease only orders jobs inside this process).</summary>
    bool IsShared { get; }

    TimeSpan Duration { get; }

    /// <summary>Now, on the clock the lease's expiries are written on (the store's, for a shared lease).</summary>
    DateTimeOffset UtcNow => DateTimeOffset.UtcNow;

    /// <summary>
    /// Takes the lease for <paramref name="jobId"/> unless someone holds it. Throws on store outages:
    /// <see cref="LeaseStoreUnreachableException"/> when the store cannot be reached at all, <see cref="LeaseStoreException"/>
    /// when it answers with an error.
    /// </summary>
    Task<LeaseAttempt> TryAcquireAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Extends a held lease; false when it was lost (expired and taken by another replica).</summary>
    Task<bool> RenewAsync(LeaseTicket ticket, CancellationToken cancellationToken);

    /// <summary>Gives the lease up early (best effort: if this fails, it lapses at its expiry).</summary>
    Task ReleaseAsync(LeaseTicket ticket, CancellationToken cancellationToken);
}

/// <summary>The lease store gave no answer at all (refused or dropped connections), as opposed to an error answer.</summary>
public sealed class LeaseStoreUnreachableException(string message, Exception innerException) : IOException(message, innerException);

/// <summary>The lease store answered with an error (a missing bucket, refused credentials), named with the lease object.</summary>
public sealed class LeaseStoreException(string message, Exception innerException) : IOException(message, innerException);

/// <summary>Who holds the lease, for which job, until when (on the lease store's clock).</summary>
public sealed record LeaseHolder(string Holder, string JobId, DateTimeOffset ExpiresAt);

public sealed record LeaseAttempt(bool Acquired, LeaseTicket? Ticket, LeaseHolder? HeldBy)
{
    public static LeaseAttempt Won(LeaseTicket ticket) => new(true, ticket, null);

    public static LeaseAttempt Lost(LeaseHolder? holder) => new(false, null, holder);
}

/// <summary>Proof of holding the lease: the token written into the lease object and the object's last ETag.</summary>
public sealed class LeaseTicket(string holder, string jobId, string token)
{
    public string Holder { get; } = holder;

    public string JobId { get; } = jobId;

    public string Token { get; } = token;

    public DateTimeOffset ExpiresAt { get; internal set; }

    internal string? ETag { get; set; }
}

/// <summary>Without shared storage: the lease only orders jobs inside this process.</summary>
public sealed class LocalTrainingLease(string replicaId, TimeProvider clock) : ITrainingLease
{
    private readonly Lock _gate = new();
    private LeaseTicket? _held;

    public string Description => "local to this process (no shared storage: replicas do not coordinate training)";

    public bool IsShared => false;

    public TimeSpan Duration => TimeSpan.FromDays(365);

    public DateTimeOffset UtcNow => clock.GetUtcNow();

    public Task<LeaseAttempt> TryAcquireAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_held is { } held)
            {
                return Task.FromResult(LeaseAttempt.Lost(new LeaseHolder(held.Holder, held.JobId, held.ExpiresAt)));
            }

            _held = new LeaseTicket(replicaId, jobId, Guid.NewGuid().ToString("N")) { ExpiresAt = clock.GetUtcNow() + Duration };
            return Task.FromResult(LeaseAttempt.Won(_held));
        }
    }

    public Task<bool> RenewAsync(LeaseTicket ticket, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(ReferenceEquals(_held, ticket));
        }
    }

    public Task ReleaseAsync(LeaseTicket ticket, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_held, ticket))
            {
                _held = null;
            }
        }

        return Task.CompletedTask;
    }
}
