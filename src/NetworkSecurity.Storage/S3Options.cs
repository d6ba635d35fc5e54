namespace NetworkSecurity.Storage;

/// <summary>
/// Where and how artifacts are shipped. Read from the standard AWS variables plus S3_BUCKET, S3_PREFIX,
/// S3_ENDPOINT_URL (S3-compatible stores), S3_FORCE_PATH_STYLE and S3_DISABLE_CHUNKED_ENCODING.
/// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the SDK's usual chain; they are never logged.
/// </summary>
public sealed record S3Options
{
    public required string Bucket { get; init; }

    /// <summary>Key prefix inside the bucket, e.g. "networksecurity/" (empty = bucket root).</summary>
    public string Prefix { get; init; } = "";

    public string Region { get; init; } = "us-east-1";

    /// <summary>Endpoint of an S3-compatible store (MinIO, Ceph, s3rver); null = AWS.</summary>
    public string? ServiceUrl { get; init; }

    public bool ForcePathStyle { get; init; }

    /// <summary>Send plain (not aws-chunked) uploads, for stores that do not understand chunked encoding.</summary>
    public bool DisableChunkedEncoding { get; init; }

    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    public int MaxConcurrency { get; init; } = 8;

    /// <summary>Upper bound on one sync, retries included: an outage never holds a run for longer.</summary>
    public TimeSpan MaxSyncTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Files above this size go up in parts.</summary>
    public long MultipartThreshold { get; init; } = 16L * 1024 * 1024;

    public long PartSize { get; init; } = 8L * 1024 * 1024;

    /// <summary>Null when S3_BUCKET is not set (no object storage).</summary>
    public static S3Options? FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var bucket = read("S3_BUCKET");
        if (string.IsNullOrWhiteSpace(bucket))
        {
            return null;
        }

        if (read("S3_ENDPOINT_URL") is { Length: > 0 } endpoint
            && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.Host.Length > 0))
        {
            throw new ArgumentException($"S3_ENDPOINT_URL '{endpoint}' is not an http(s) URL (for example http://127.0.0.1:9000).");
        }

        var prefix = read("S3_PREFIX") ?? "";
        return new S3Options
        {
            Bucket = bucket,
            Prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/",
            Region = read("AWS_REGION") ?? read("AWS_DEFAULT_REGION") ?? "us-east-1",
            ServiceUrl = read("S3_ENDPOINT_URL") is { Length: > 0 } url ? url : null,
            ForcePathStyle = IsTrue(read("S3_FORCE_PATH_STYLE")),
            DisableChunkedEncoding = IsTrue(read("S3_DISABLE_CHUNKED_ENCODING")),
            AccessKey = read("AWS_ACCESS_KEY_ID"),
            SecretKey = read("AWS_SECRET_ACCESS_KEY"),
        };
    }

    private static bool IsTrue(string? value) => value is not null && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));
}
