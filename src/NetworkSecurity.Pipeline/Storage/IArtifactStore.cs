namespace NetworkSecurity.Pipeline.Storage;

/// <summary>Ships a run's artifacts and the promoted model to object storage (S3) and pulls the latest model back.</summary>
public interface IArtifactStore
{
    /// <summary>Where artifacts go, for logs and job status, e.g. "s3://bucket/prefix". Never contains secrets.</summary>
    string Description { get; }

    /// <summary>
    /// Uploads <paramref name="runArtifactsDirectory"/> (Artifacts/&lt;timestamp&gt;) and, when not null,
    /// <paramref name="promotedModelDirectory"/> (final_model/). Must not throw for store outages: report them in the result.
    /// </summary>
    Task<SyncResult> PublishAsync(string runArtifactsDirectory, string timestamp, string? promotedModelDirectory, CancellationToken cancellationToken);

    /// <summary>
    /// Downloads the latest promoted model into <paramref name="finalModelDirectory"/>; false when there is none or it is
    /// unusable. <paramref name="verify"/> is given the downloaded folder before it is adopted and throws when the version
    /// cannot be served (e.g. <see cref="Training.ModelStore.LoadVerified"/>): one that cannot is never made current.
    /// </summary>
    Task<bool> TryPullLatestModelAsync(string finalModelDirectory, Action<string> verify, CancellationToken cancellationToken);
}

public sealed record SyncResult(bool Synced, int FilesUploaded, int FilesSkipped, string Message);

/// <summary>Used when no object store is configured.</summary>
public sealed class NoArtifactStore : IArtifactStore
{
    public string Description => "no object storage (S3_BUCKET not set)";

    public Task<SyncResult> PublishAsync(string runArtifactsDirectory, string timestamp, string? promotedModelDirectory, CancellationToken cancellationToken) =>
        Task.FromResult(new SyncResult(false, 0, 0, "Object storage is not configured (S3_BUCKET not set): artifacts stay local."));

    public Task<bool> TryPullLatestModelAsync(string finalModelDirectory, Action<string> verify, CancellationToken cancellationToken) => Task.FromResult(false);
}
