using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace NetworkSecurity.Storage.Replication;

/// <summary>A training job's record as stored, and when the store received it (on the store's clock).</summary>
public sealed record StoredJob(byte[] Json, DateTimeOffset LastModified);

/// <summary>
/// Training jobs shared between replicas: one JSON object per job, s3://bucket/prefix/jobs/&lt;id&gt;.json, written by
/// the replica that runs the job, so that any replica behind a load balancer can answer for it. What the record says is
/// the caller's business: this class stores, reads and prunes.
/// </summary>
public sealed class S3JobBoard : IDisposable
{
    /// <summary>Jobs are named by 32 hexadecimal digits: anything else is never looked up (no key is built from it).</summary>
    public static bool IsJobId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    private const int MaxRecordLength = 1024 * 1024;
    private readonly S3Options _options;
    private readonly IAmazonS3 _s3;

    public S3JobBoard(S3Options options, StoreClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _s3 = S3ClientFactory.Create(options, clock);
    }

    public string Prefix => $"{_options.Prefix}jobs/";

    /// <summary>s3://bucket/prefix/jobs/, for messages.</summary>
    public string Location => $"s3://{_options.Bucket}/{Prefix}";

    private string KeyOf(string id) => IsJobId(id) ? $"{Prefix}{id}.json" : throw new ArgumentException($"'{id}' is not a job id.", nameof(id));

    public async Task WriteAsync(string id, byte[] json, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var body = new MemoryStream(json, writable: false);
        await _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = KeyOf(id),
            InputStream = body,
            ContentType = "application/json",
            UseChunkEncoding = !_options.DisableChunkedEncoding,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The job's record (empty for an empty object), or null when the store has none (or <paramref name="id"/> is not a job id).</summary>
    public async Task<StoredJob?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        if (!IsJobId(id))
        {
            return null;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // A range read, as the lease's: the SDK then skips its whole-object checksum, which a store whose overwrites
                // are not atomic (s3rver) can fail; the caller parses the body and reads again if it is torn.
                using var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = KeyOf(id), ByteRange = new ByteRange(0, MaxRecordLength - 1) }, cancellationToken).ConfigureAwait(false);
                var modified = response.LastModified is { } time ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue;
                if (response.ContentRange?.EndsWith("/0", StringComparison.Ordinal) == true)
                {
                    // An empty object: s3rver answers its range with a length of 1 and no body, and the read waited for
                    // a byte that never came (GET /train/{id} said the store "did not answer within 10 s").
                    return new StoredJob([], modified);
                }

                using var buffer = new MemoryStream();
                await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                return new StoredJob(buffer.ToArray(), modified);
            }
            catch (AmazonServiceException ex) when (S3Errors.IsMissingObject(ex))
            {
                return null;
            }
            catch (AmazonServiceException ex) when (ex.StatusCode == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // An empty object (S3 cannot satisfy a range of one): a record, if not a job's, rather than no record. Its
                // time from its metadata: the caller tells a record just written from one left so for good by it.
                return await EmptyAsync(id, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpIOException ex) when (ex.HttpRequestError == HttpRequestError.ResponseEnded && attempt < BodyTries)
            {
                // The body ended before its length: s3rver serving a record while its owner rewrites it (one read in
                // about 1,500 during a run). Torn as a half-written record is, so read again, not reported as the
                // store not answering (GET /train/{id} answered 503 on the other replica).
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private const int BodyTries = 3;

    private async Task<StoredJob?> EmptyAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _s3.GetObjectMetadataAsync(_options.Bucket, KeyOf(id), cancellationToken).ConfigureAwait(false);
            return new StoredJob([], head.LastModified is { } time ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue);
        }
        catch (AmazonServiceException ex) when (S3Errors.IsMissingObject(ex))
        {
            return null; // removed since
        }
    }

    /// <summary>The jobs recorded (their ids and when each record was last written, on the store's clock), most recently written first.</summary>
    public async Task<IReadOnlyList<(string Id, DateTimeOffset LastModified)>> ListAsync(CancellationToken cancellationToken) =>
        (await S3Listing.ObjectsAsync(_s3, _options.Bucket, Prefix, cancellationToken).ConfigureAwait(false))
            .Where(o => o.Key.EndsWith(".json", StringComparison.Ordinal) && IsJobId(o.Key[Prefix.Length..^5]))
            .Select(o => (o.Key[Prefix.Length..^5], o.LastModified is { } time ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue))
            .OrderByDescending(r => r.Item2).ThenByDescending(r => r.Item1, StringComparer.Ordinal)
            .ToList();

    /// <summary>Deletes all but the <paramref name="keep"/> most recently written records; returns how many went.</summary>
    public async Task<int> PruneAsync(int keep, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        var records = (await S3Listing.ObjectsAsync(_s3, _options.Bucket, Prefix, cancellationToken).ConfigureAwait(false))
            .Where(o => o.Key.EndsWith(".json", StringComparison.Ordinal) && IsJobId(o.Key[Prefix.Length..^5]));
        var old = records.OrderByDescending(o => o.LastModified ?? DateTime.MinValue).ThenByDescending(o => o.Key, StringComparer.Ordinal).Skip(keep).ToList();
        foreach (var record in old)
        {
            await _s3.DeleteObjectAsync(_options.Bucket, record.Key, cancellationToken).ConfigureAwait(false);
        }

        return old.Count;
    }

    public void Dispose() => _s3.Dispose();
}
