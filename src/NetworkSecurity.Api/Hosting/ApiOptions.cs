using System.ComponentModel.DataAnnotations;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Limits and switches of the web API, bound from the "Api" configuration section.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest accepted upload for POST /predict, in bytes (default 50 MB; at most 1 GiB: an upload is held in memory).</summary>
    [Range(1024, MaxBodyBytes)]
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Most records accepted in one prediction request.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRows { get; set; } = 1_000_000;

    /// <summary>Largest accepted body for POST /predict/json, in bytes (default 16 MB): JSON costs more per record than CSV.</summary>
    [Range(1024, MaxBodyBytes)]
    public long MaxJsonBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Most records accepted in one POST /predict/json body, counted while it is read.</summary>
    [Range(1, int.MaxValue)]
    public int MaxJsonRecords { get; set; } = 100_000;

    /// <summary>
    /// Most records of one POST /predict upload that ?explain may explain: every explanation is held until the answer is
    /// written, about 2 KB a distinct record (100,000 added 200 MB; a 49 MB upload, 696,000 rows, 450 MB at the 30 s budget).
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxExplainRows { get; set; } = 100_000;

    /// <summary>
    /// Most POST /predict uploads and POST /predict/json bodies over 1 MiB scored at once; more wait for a slot once their body is in, up to
    /// <see cref="ScoringTimeoutSeconds"/>, then get 503 with Retry-After (see UploadSlots).
    /// </summary>
    [Range(1, 1024)]
    public int MaxConcurrentUploads { get; set; } = 4;

    /// <summary>
    /// Bytes that POST /predict uploads and POST /predict/json bodies over 1 MiB may hold at once, from their arrival until
    /// their answer is written (a slow reader holds its upload for hours); one past it is refused with 503 and
    /// Retry-After, before its body is read when Content-Length announces it. Never less than one body at the larger of
    /// <see cref="MaxUploadBytes"/> and <see cref="MaxJsonBytes"/> (see UploadSlots).
    /// </summary>
    [Range(1024d * 1024, MaxBodyBytes * 1024d)]
    public long MaxUploadBytesInFlight { get; set; } = 400L * 1024 * 1024;

    /// <summary>Most columns an uploaded CSV may have.</summary>
    [Range(1, int.MaxValue)]
    public int MaxColumns { get; set; } = 512;

    /// <summary>Longest CSV header line, in characters.</summary>
    [Range(16, int.MaxValue)]
    public int MaxHeaderLength { get; set; } = 64 * 1024;

    /// <summary>Longest CSV data line, in characters.</summary>
    [Range(16, int.MaxValue)]
    public int MaxLineLength { get; set; } = 64 * 1024;

    /// <summary>Longest CSV cell (or column name), in characters.</summary>
    [Range(1, int.MaxValue)]
    public int MaxCellLength { get; set; } = 8 * 1024;

    /// <summary>Share of a record's features that may be missing (imputed); a record with more is invalid.</summary>
    [Range(0.0, 1.0)]
    public double MaxMissingFraction { get; set; } = NetworkSecurity.Pipeline.Schema.RecordParser.DefaultMaxMissingFraction;

    /// <summary>Time one prediction request may spend scoring before it is stopped with 503 (seconds).</summary>
    [Range(0.001, 3600)]
    public double ScoringTimeoutSeconds { get; set; } = 30;

    /// <summary>Upper bound of the body limits: bodies are held in memory, in arrays indexed by int.</summary>
    public const long MaxBodyBytes = 1L << 30;

    /// <summary>The setting (environment variable or --NETWORKSECURITY_API_KEY=...) that holds the API key.</summary>
    public const string ApiKeyVariable = "NETWORKSECURITY_API_KEY";

    /// <summary>
    /// A placeholder, not a key: the "change-me" values the repository ships are public, so the service warns when one is
    /// in use (.env.example's; secret.example.yaml's plain "change-me" was taken for a real key without a word).
    /// </summary>
    public static bool IsPlaceholderKey(string key) => key.StartsWith("change-me", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// When set, POST /train requires this value in the X-Api-Key header. Read from NETWORKSECURITY_API_KEY
    /// (or Api__TrainApiKey); never commit it.
    /// </summary>
    public string? TrainApiKey { get; set; }

    /// <summary>Queue a training run at start-up when no model is available.</summary>
    public NetworkSecurity.Pipeline.Configuration.Switch TrainOnStartup { get; set; } = true;

    /// <summary>
    /// Requests slower than this are logged at Information (with failures); the others at Debug, so a busy service does
    /// not flood its log. Set the Serilog level of Serilog.AspNetCore.RequestLoggingMiddleware to Debug to see them all.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int SlowRequestMilliseconds { get; set; } = 1000;

    /// <summary>Seconds clients are told to wait (Retry-After) in the 503s that waiting cures: no model yet, a shutdown, every upload slot busy, the lease store away.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 15;
}
