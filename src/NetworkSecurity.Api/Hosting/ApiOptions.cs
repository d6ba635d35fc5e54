using System.ComponentModel.DataAnnotations;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Limits and switches of the web API, bound from the "Api" configuration section.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest accepted upload for POST /predict, in bytes (default 50 MB).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Most records accepted in one prediction request.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRows { get; set; } = 1_000_000;

    /// <summary>
    /// When set, POST /train requires this value in the X-Api-Key header. Read from NETWORKSECURITY_API_KEY
    /// (or Api__TrainApiKey); never commit it.
    /// </summary>
    public string? TrainApiKey { get; set; }

    /// <summary>Queue a training run at start-up when no model is available.</summary>
    public bool TrainOnStartup { get; set; } = true;

    /// <summary>
    /// Requests slower than this are logged at Information (with failures); the others at Debug, so a busy service does
    /// not flood its log. Set the Serilog level of Serilog.AspNetCore.RequestLoggingMiddleware to Debug to see them all.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int SlowRequestMilliseconds { get; set; } = 1000;

    /// <summary>Seconds clients are told to wait (Retry-After) while no model is loaded.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 15;
}
