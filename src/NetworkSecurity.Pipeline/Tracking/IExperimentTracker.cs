namespace NetworkSecurity.Pipeline.Tracking;

/// <summary>
/// Records a finished training run in an experiment tracker. The pipeline knows only this interface and the run model
/// below; the MLflow file store and server trackers live in NetworkSecurity.Tracking, which the host plugs in.
/// </summary>
public interface IExperimentTracker
{
    /// <summary>Where runs go, for logs and job status, e.g. "MLflow file store ./mlruns". Never contains secrets.</summary>
    string Description { get; }

    /// <summary>Records the run. Must not throw for tracker outages: report them in the result instead.</summary>
    Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken);
}

public sealed record TrackedRun(
    string ExperimentName,
    string RunName,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    bool Succeeded,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<TrackedArtifact> Artifacts)
{
    /// <summary>The run was stopped (cancelled, the service shutting down) rather than failing: MLflow's KILLED.</summary>
    public bool Cancelled { get; init; }

    /// <summary>Who ran it: the "user" tag, else the OS user.</summary>
    public string User => Tags.TryGetValue("user", out var user) && user.Length > 0 ? user : Environment.UserName;
}

/// <summary>A local file or folder to log under <paramref name="ArtifactPath"/> in the run's artifacts.</summary>
public sealed record TrackedArtifact(string LocalPath, string ArtifactPath);

public sealed record TrackingResult(bool Tracked, string? RunId, string Message);

/// <summary>Used when tracking is switched off.</summary>
public sealed class NoExperimentTracker : IExperimentTracker
{
    public string Description => "tracking disabled";

    public Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken) =>
        Task.FromResult(new TrackingResult(false, null, "experiment tracking is off (Tracking:Enabled=false)."));
}
