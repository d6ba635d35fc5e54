using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;

namespace NetworkSecurity.Storage.Replication;

/// <summary>How the S3 lease is taken.</summary>
public enum S3LeaseMode
{
    /// <summary>Probe the store once: conditional writes if it enforces them, else <see cref="Settle"/>.</summary>
    Auto,

    /// <summary>
    /// Compare-and-swap with conditional writes: If-None-Match: * creates the lease object, If-Match: &lt;ETag&gt; takes
    /// over a lapsed lease, renews and releases it. The store arbitrates: exactly one writer wins (AWS S3 since 2024, MinIO).
    /// </summary>
    Conditional,

    /// <summary>
    /// For stores that ignore conditional writes (s3rver): write the lease, wait a settle delay, read it back; whoever's
    /// token is there holds it (last writer wins). This is Fischer's timed mutual exclusion: exclusive as long as no
    /// replica takes longer than the settle delay between reading the free lease and writing its own.
    /// </summary>
    Settle,
}

public sealed record S3LeaseSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan SettleDelay { get; init; } = TimeSpan.FromSeconds(2);

    public S3LeaseMode Mode { get; init; } = S3LeaseMode.Auto;
}

/// <summary>
/// The training lease as one JSON object, s3://bucket/prefix/leases/training.json: holder, job id, token and expiry.
/// Expiries are on the store's clock (the Date header of its answers, see <see cref="StoreClock"/>), so clock skew between
/// replicas does not matter; only the store's clock and the lease duration do.
/// </summary>
public sealed class S3TrainingLease : ITrainingLease, IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private const int RecordLength = 1024;
    private const string UnreadableToken = "?";
    private readonly S3Options _options;
    private readonly S3LeaseSettings _settings;
    private readonly string _replicaId;
    private readonly ILogger _logger;
    private readonly IAmazonS3 _s3;
    private readonly SemaphoreSlim _probe = new(1, 1);
    private S3LeaseMode _mode;

    public S3TrainingLease(S3Options options, S3LeaseSettings settings, string replicaId, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        _options = options;
        _settings = settings;
        _replicaId = replicaId;
        _logger = logger;
        _mode = settings.Mode;
        Clock = new StoreClock(clock ?? TimeProvider.System);
        _s3 = S3ClientFactory.Create(options, Clock);
    }

    public StoreClock Clock { get; }

    public DateTimeOffset UtcNow => Clock.UtcNow;

    public string Key => $"{_options.Prefix}leases/training.json";

    /// <summary>s3://bucket/key of the lease object, for messages.</summary>
    public string Location => $"s3://{_options.Bucket}/{Key}";

    public S3LeaseMode Mode => _mode;

    public bool IsShared => true;

    public TimeSpan Duration => _settings.Duration;

    public string Description => $"s3://{_options.Bucket}/{Key}, {_settings.Duration.TotalSeconds:0} s expiry on the store's clock, " + _mode switch
    {
        S3LeaseMode.Conditional => "conditional writes (If-None-Match / If-Match)",
        S3LeaseMode.Settle => $"write-then-read-back with a {_settings.SettleDelay.TotalMilliseconds:0} ms settle delay (the store ignores conditional writes)",
        _ => "mode not probed yet",
    };

    /// <summary>Finds out once whether the store enforces If-None-Match on PUT; returns the mode used from now on.</summary>
    public async Task<S3LeaseMode> ProbeAsync(CancellationToken cancellationToken)
    {
        if (_mode != S3LeaseMode.Auto)
        {
            return _mode;
        }

        await _probe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_mode != S3LeaseMode.Auto)
            {
                return _mode;
            }

            var key = $"{_options.Prefix}leases/.conditional-write-probe-{Guid.NewGuid():N}";
            var enforced = false;
            var written = false;
            try
            {
                await PutAsync(key, "probe", ifNoneMatch: true, ifMatch: null, cancellationToken).ConfigureAwait(false);
                written = true;
                await PutAsync(key, "probe", ifNoneMatch: true, ifMatch: null, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception ex) when (IsConditionFailure(ex))
            {
                enforced = true;
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest)
            {
                // The store refuses the header outright: no conditional writes.
            }
            finally
            {
                // Not the caller's token (a stop must not leave the object for want of trying), but bounded; and any
                // failure here is swallowed: thrown from this finally, it replaced the probe's own error, and at shutdown
                // with an unreachable store an HttpRequestException in place of the cancellation crashed the sync service.
                // Nothing to remove when the first write failed: against a store that refused the connection, the
                // delete's own retries made a refused POST /train wait 5 s longer (14.7 s of its 15 s budget).
                using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    if (written)
                    {
                        await _s3.DeleteObjectAsync(_options.Bucket, key, cleanup.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is AmazonServiceException or Amazon.Runtime.AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
                {
                    // A leftover probe object is harmless.
                }
            }

            _mode = enforced ? S3LeaseMode.Conditional : S3LeaseMode.Settle;
            return _mode;
        }
        finally
        {
            _probe.Release();
        }
    }

    public Task<LeaseAttempt> TryAcquireAsync(string jobId, CancellationToken cancellationToken) =>
        NamedAsync(() => TryAcquireCoreAsync(jobId, cancellationToken));

    // Store errors said with the lease object, for taking, renewing and releasing alike: the store's own words ("The
    // specified bucket does not exist", "Connection refused (host:port)") name no bucket or key, and a renewal that
    // failed was logged with nothing else.
    private async Task<T> NamedAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (Unreachable(ex) is { } cause)
        {
            throw new LeaseStoreUnreachableException($"{Location} cannot be reached ({cause.Message})", ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new LeaseStoreException($"{Location} cannot be used ({S3ArtifactStore.Describe(ex)})", ex);
        }
    }

    // The S3 client has already retried the connection when it gives up: no answer came, as opposed to an error answer.
    // Nor did one whose body still ended early after the reads again of ReadSettledAsync.
    private static Exception? Unreachable(Exception ex) => ex switch
    {
        HttpRequestException http => http,
        AmazonServiceException { InnerException: HttpRequestException http } => http,
        HttpIOException body => body,
        _ => null,
    };

    private async Task<LeaseAttempt> TryAcquireCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        var mode = await ProbeAsync(cancellationToken).ConfigureAwait(false);
        var (current, etag) = mode == S3LeaseMode.Conditional
            ? await ReadAsync(cancellationToken).ConfigureAwait(false)
            : await ReadSettledAsync(cancellationToken).ConfigureAwait(false);
        if (current is { Token: UnreadableToken })
        {
            _logger.LogWarning("The training lease {Location} is not a lease record: treating it as free", Location);
        }

        if (current is not null && IsHeld(current))
        {
            return LeaseAttempt.Lost(new LeaseHolder(current.Holder, current.JobId, current.ExpiresAt));
        }

        var ticket = new LeaseTicket(_replicaId, jobId, Guid.NewGuid().ToString("N"));
        var record = NewRecord(ticket);
        if (mode == S3LeaseMode.Conditional)
        {
            try
            {
                ticket.ETag = await PutAsync(Key, Serialize(record), ifNoneMatch: etag is null, ifMatch: etag, cancellationToken).ConfigureAwait(false);
                ticket.ExpiresAt = record.ExpiresAt;
                return LeaseAttempt.Won(ticket);
            }
            catch (AmazonS3Exception ex) when (IsConditionFailure(ex))
            {
                return LeaseAttempt.Lost(await HolderAsync(cancellationToken).ConfigureAwait(false));
            }
        }

        await PutAsync(Key, Serialize(record), ifNoneMatch: false, ifMatch: null, cancellationToken).ConfigureAwait(false);
        await Task.Delay(_settings.SettleDelay, cancellationToken).ConfigureAwait(false);
        // Ours was written just before: no object or half a body is a late write of another replica's landing.
        var (after, afterETag) = await ReadSettledAsync(cancellationToken).ConfigureAwait(false);

        if (after?.Token == ticket.Token)
        {
            ticket.ETag = afterETag;
            ticket.ExpiresAt = after.ExpiresAt;
            return LeaseAttempt.Won(ticket);
        }

        if (after is { Token: UnreadableToken })
        {
            // Our own record, just written, still reads back as no record: the store keeps other bytes than it is sent.
            // Nobody holds the lease ("held by ? until 0001-01-01" said otherwise); the store cannot answer for it.
            throw new LeaseStoreUnreachableException(
                $"s3://{_options.Bucket}/{Key} does not keep what it is sent: the lease record just written reads back as something else (a store that keeps aws-chunked framing as the object, as s3rver does, needs S3_DISABLE_CHUNKED_ENCODING=true)",
                new InvalidDataException("the lease record read back is not one"));
        }

        return LeaseAttempt.Lost(after is null ? null : new LeaseHolder(after.Holder, after.JobId, after.ExpiresAt));
    }

    public Task<bool> RenewAsync(LeaseTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return NamedAsync(() => RenewCoreAsync(ticket, cancellationToken));
    }

    private async Task<bool> RenewCoreAsync(LeaseTicket ticket, CancellationToken cancellationToken)
    {
        var record = NewRecord(ticket);
        if (_mode == S3LeaseMode.Conditional)
        {
            try
            {
                ticket.ETag = await PutAsync(Key, Serialize(record), ifNoneMatch: false, ifMatch: ticket.ETag, cancellationToken).ConfigureAwait(false);
                ticket.ExpiresAt = record.ExpiresAt;
                return true;
            }
            catch (AmazonS3Exception ex) when (IsConditionFailure(ex))
            {
                return false;
            }
        }

        var (current, _) = await ReadSettledAsync(cancellationToken).ConfigureAwait(false);
        if (current?.Token != ticket.Token)
        {
            return false;
        }

        ticket.ETag = await PutAsync(Key, Serialize(record), ifNoneMatch: false, ifMatch: null, cancellationToken).ConfigureAwait(false);
        ticket.ExpiresAt = record.ExpiresAt;
        return true;
    }

    public Task ReleaseAsync(LeaseTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return NamedAsync(async () =>
        {
            await ReleaseCoreAsync(ticket, cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    private async Task ReleaseCoreAsync(LeaseTicket ticket, CancellationToken cancellationToken)
    {
        var released = NewRecord(ticket) with { ExpiresAt = Clock.UtcNow, Released = true };
        try
        {
            if (_mode == S3LeaseMode.Conditional)
            {
                await PutAsync(Key, Serialize(released), ifNoneMatch: false, ifMatch: ticket.ETag, cancellationToken).ConfigureAwait(false);
                return;
            }

            var (current, _) = await ReadSettledAsync(cancellationToken).ConfigureAwait(false);
            if (current?.Token == ticket.Token)
            {
                await PutAsync(Key, Serialize(released), ifNoneMatch: false, ifMatch: null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (AmazonS3Exception ex) when (IsConditionFailure(ex))
        {
            // Someone else holds it now: nothing to release.
        }
    }

    /// <summary>The current holder, or null when the lease is free.</summary>
    public async Task<LeaseHolder?> HolderAsync(CancellationToken cancellationToken)
    {
        var (current, _) = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return current is not null && IsHeld(current) ? new LeaseHolder(current.Holder, current.JobId, current.ExpiresAt) : null;
    }

    private bool IsHeld(LeaseRecord record) => !record.Released && record.ExpiresAt > Clock.UtcNow;

    private LeaseRecord NewRecord(LeaseTicket ticket)
    {
        var now = Clock.UtcNow;
        return new LeaseRecord(ticket.Holder, ticket.JobId, ticket.Token, now, now + _settings.Duration, false);
    }

    // On a store without atomic PUTs a read overlapping the holder's renewal can come back torn, or find no object while
    // it is replaced. Taken at face value either read counts as a free lease (or a lost one, for the holder), and two
    // replicas trained at once (seen once in CI). A torn read does not last: look again before believing it.
    // So does a body that ends before its Content-Length (s3rver truncates the file it rewrites while it is being read):
    // it was thrown (HttpIOException, "The response ended prematurely") out of taking and renewing the lease alike.
    // Five replicas asking at once rewrite it back to back, and a read was cut four times in a row within its 600 ms (seen
    // in CI under load): a cut body is read again after 200, 400, 800 and 1,600 ms, and only then is the store unreachable.
    private async Task<(LeaseRecord? Record, string? ETag)> ReadSettledAsync(CancellationToken cancellationToken)
    {
        const int Retries = 3; // a missing or torn record, 200 ms apart: a first lease ever finds none, and waits no longer
        const int CutRetries = 4;
        for (var retry = 0; ; retry++)
        {
            (LeaseRecord? Record, string? ETag) read;
            var cut = false;
            try
            {
                read = await ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpIOException) when (retry < CutRetries)
            {
                (read, cut) = ((Unreadable(), null), true);
            }

            if (read.Record is not (null or { Token: UnreadableToken }) || retry >= (cut ? CutRetries : Retries))
            {
                return read;
            }

            await Task.Delay(cut ? 200 << retry : 200, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(LeaseRecord? Record, string? ETag)> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A range read: the SDK then skips its whole-object MD5 check, which fails on stores whose concurrent PUTs
            // are not atomic (s3rver can pair one writer's body with another's ETag). The body is what decides.
            using var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = Key, ByteRange = new ByteRange(0, 65535) }, cancellationToken).ConfigureAwait(false);
            try
            {
                var record = await JsonSerializer.DeserializeAsync<LeaseRecord>(response.ResponseStream, Json, cancellationToken).ConfigureAwait(false);
                return (record is { Holder: not null, Token: not null, JobId: not null } ? record : Unreadable(), response.ETag);
            }
            catch (JsonException)
            {
                return (Unreadable(), response.ETag);
            }
        }
        catch (AmazonServiceException ex) when (S3Errors.IsMissingObject(ex))
        {
            return (null, null);
        }
    }

    // Garbage in the lease object must not block training for ever: it counts as a lapsed lease and is overwritten.
    private static LeaseRecord Unreadable()
    {
        return new LeaseRecord("?", "?", UnreadableToken, DateTimeOffset.MinValue, DateTimeOffset.MinValue, true);
    }

    private async Task<string> PutAsync(string key, string body, bool ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            ContentBody = body,
            ContentType = "application/json",
            UseChunkEncoding = !_options.DisableChunkedEncoding,
        };
        if (ifNoneMatch)
        {
            request.IfNoneMatch = "*";
        }
        else if (ifMatch is not null)
        {
            request.IfMatch = ifMatch;
        }

        var response = await _s3.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        return response.ETag;
    }

    private static bool IsConditionFailure(AmazonS3Exception ex) =>
        ex.StatusCode is HttpStatusCode.PreconditionFailed || ex.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict";

    // Padded to a fixed length: on stores whose overlapping PUTs write the same file in place (s3rver), the last writer
    // then overwrites every byte, so the object is always one writer's whole record, never a torn mix.
    private static string Serialize(LeaseRecord record) => JsonSerializer.Serialize(record, Json).PadRight(RecordLength);

    public void Dispose()
    {
        _s3.Dispose();
        _probe.Dispose();
    }

    private sealed record LeaseRecord(string Holder, string JobId, string Token, DateTimeOffset RenewedAt, DateTimeOffset ExpiresAt, bool Released);
}
