namespace NetworkSecurity.Tracking;

/// <summary>MLflow settings from the standard variables: MLFLOW_TRACKING_URI, _USERNAME, _PASSWORD, _TOKEN.</summary>
public sealed record MlflowOptions
{
    public string? TrackingUri { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public string? Token { get; init; }

    /// <summary>Upper bound on one run's tracking, retries included.</summary>
    public TimeSpan MaxTrackingTime { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public bool IsServer => TrackingUri is { } uri
        && (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    public static MlflowOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return new MlflowOptions
        {
            TrackingUri = read("MLFLOW_TRACKING_URI"),
            Username = read("MLFLOW_TRACKING_USERNAME"),
            Password = read("MLFLOW_TRACKING_PASSWORD"),
            Token = read("MLFLOW_TRACKING_TOKEN"),
        };
    }
}
