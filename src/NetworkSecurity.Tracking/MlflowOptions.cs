using System.Globalization;

namespace NetworkSecurity.Tracking;

/// <summary>
/// MLflow settings from MLflow's own variables: MLFLOW_TRACKING_URI, _USERNAME, _PASSWORD, _TOKEN, and for servers
/// MLFLOW_HTTP_REQUEST_TIMEOUT (seconds per request) and MLFLOW_HTTP_REQUEST_MAX_RETRIES.
/// </summary>
public sealed record MlflowOptions
{
    public string? TrackingUri { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public string? Token { get; init; }

    /// <summary>Upper bound on one run's tracking, every request, retry and backoff included.</summary>
    public TimeSpan MaxTrackingTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Upper bound on one request (MLflow's client: 120 s; shorter here so retries fit in the budget).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries after a timeout, a connection failure or a 408/429/5xx answer (MLflow's client: 7).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First backoff; each retry doubles it, plus up to as much again of jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public bool IsServer => TrackingUri is { } uri
        && (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    public static MlflowOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var options = new MlflowOptions
        {
            TrackingUri = read("MLFLOW_TRACKING_URI"),
            Username = read("MLFLOW_TRACKING_USERNAME"),
            Password = read("MLFLOW_TRACKING_PASSWORD"),
            Token = read("MLFLOW_TRACKING_TOKEN"),
        };
        if (PositiveNumber(read, "MLFLOW_HTTP_REQUEST_TIMEOUT") is { } seconds and > 0)
        {
            options = options with { RequestTimeout = TimeSpan.FromSeconds(seconds) };
        }

        if (PositiveNumber(read, "MLFLOW_HTTP_REQUEST_MAX_RETRIES") is { } retries)
        {
            options = options with { MaxRetries = (int)retries };
        }

        return options;
    }

    private static double? PositiveNumber(Func<string, string?> read, string name) =>
        read(name) is { Length: > 0 } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw new ArgumentException($"{name} must be a number of at least 0, not '{text}'.")
            : null;
}
