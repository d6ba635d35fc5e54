namespace NetworkSecurity.Storage;

/// <summary>
/// Where and how artifacts are shipped. Read from the standard AWS variables plus S3_BUCKET, S3_PREFIX,
/// S3_ENDPOINT_URL (S3-compatible stores), S3_FORCE_PATH_STYLE and S3_DISABLE_CHUNKED_ENCODING.
/// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary ones) or the
/// SDK's usual chain; they are never logged.
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

    /// <summary>AWS_SESSION_TOKEN: temporary credentials (assumed roles, SSO) are refused without it.</summary>
    public string? SessionToken { get; init; }

    public int MaxConcurrency { get; init; } = 8;

    /// <summary>Upper bound on one sync, retries included: an outage never holds a run for longer.</summary>
    public TimeSpan MaxSyncTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Files above this size go up in parts.</summary>
    public long MultipartThreshold { get; init; } = 16L * 1024 * 1024;

    public long PartSize { get; init; } = 8L * 1024 * 1024;

    // The record's ToString without the secret key and session token (it printed every property): safe to log.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        var endpoint = ServiceUrl is null ? "AWS" : NetworkSecurity.Pipeline.Configuration.UrlCredentials.Redact(ServiceUrl);
        builder.Append($"Bucket = {Bucket}, Prefix = {Prefix}, Region = {Region}, ServiceUrl = {endpoint}, AccessKey = {AccessKey}, ")
            .Append($"SecretKey = {(SecretKey is null ? "unset" : "***")}, SessionToken = {(SessionToken is null ? "unset" : "***")}");
        return true;
    }

    /// <summary>Null when S3_BUCKET is not set (no object storage).</summary>
    public static S3Options? FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        // Checked with or without a bucket, as MongoDB's settings are: a value that cannot work is said at once.
        if (read("S3_ENDPOINT_URL") is { Length: > 0 } endpoint
            && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.Host.Length > 0))
        {
            throw new ArgumentException($"S3_ENDPOINT_URL '{NetworkSecurity.Pipeline.Configuration.UrlCredentials.Redact(endpoint)}' is not an http(s) URL (for example http://127.0.0.1:9000).");
        }

        var forcePathStyle = Flag("S3_FORCE_PATH_STYLE", read("S3_FORCE_PATH_STYLE"));
        var disableChunked = Flag("S3_DISABLE_CHUNKED_ENCODING", read("S3_DISABLE_CHUNKED_ENCODING"));
        // Empty counts as unset (a blank line in an env file), as for the bucket.
        var region = read("AWS_REGION") is { Length: > 0 } given ? given.Trim() : read("AWS_DEFAULT_REGION") is { Length: > 0 } fallback ? fallback.Trim() : "us-east-1";
        if (region.Length == 0 || region.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            throw new ArgumentException($"AWS_REGION (or AWS_DEFAULT_REGION) '{region}' is not a region name (lower-case letters, digits and '-', for example us-east-1).");
        }

        var prefix = read("S3_PREFIX") ?? "";
        // One trailing '/' ends the prefix; a second is an empty segment (TrimEnd let "prod//" through, and every request
        // then failed with a bare NotFound).
        var segments = (prefix.EndsWith('/') ? prefix[..^1] : prefix).Split('/');
        if (prefix.Length > 0 && segments.Any(segment => segment.Trim() is "" or "." or ".."))
        {
            throw new ArgumentException($"S3_PREFIX '{prefix}' has an empty, '.' or '..' segment: give plain segments such as team/models/ (a URL would resolve those, and the objects could land outside the bucket's folder or in another bucket).");
        }

        var bucket = read("S3_BUCKET");
        if (string.IsNullOrWhiteSpace(bucket))
        {
            return null;
        }

        // A bucket or prefix with '.' or '..' segments, or an empty one ('//'), is rewritten by path-style URLs: the
        // objects of S3_PREFIX=../up landed in another bucket, "up".
        if (bucket.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')) || bucket.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"S3_BUCKET '{bucket}' is not a bucket name (letters, digits, '.', '-' and '_' only, no '..').");
        }

        return new S3Options
        {
            Bucket = bucket,
            Prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/",
            Region = region,
            ServiceUrl = read("S3_ENDPOINT_URL") is { Length: > 0 } url ? url : null,
            ForcePathStyle = forcePathStyle,
            DisableChunkedEncoding = disableChunked,
            AccessKey = read("AWS_ACCESS_KEY_ID"),
            SecretKey = read("AWS_SECRET_ACCESS_KEY"),
            SessionToken = read("AWS_SESSION_TOKEN") is { Length: > 0 } token ? token : null, // empty is unset, as in an env file
        };
    }

    // Every boolean setting's rule (Setting.TryParseSwitch); unset or empty is false. Anything else is refused: "yes" read
    // as false had left chunked uploads on, and s3rver kept their framing as the objects.
    private static bool Flag(string name, string? value) =>
        string.IsNullOrWhiteSpace(value) ? false
        : NetworkSecurity.Pipeline.Configuration.Setting.TryParseSwitch(value, out var on) ? on
        : throw new ArgumentException($"{name} '{value}' is not {NetworkSecurity.Pipeline.Configuration.Setting.SwitchWords}.");
}
