using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline;

namespace NetworkSecurity.Api.Training;

public enum TrainingJobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>One training run requested through the API (or at start-up). Updated by the worker, read by GET /train/{id}.</summary>
public sealed class TrainingJob(string reason, DateTimeOffset createdAt, string? replica = null)
{
    private readonly Lock _gate = new();
    private TrainingJobStatus _status = new(Guid.NewGuid().ToString("N"), TrainingJobState.Queued, reason, createdAt, null, null, PipelineStage.Queued, 0, null, null, replica);

    /// <summary>The training lease this job holds (renewed until the job and its publication are done).</summary>
    internal LeaseKeeper? Lease { get; set; }

    public string Id => Status.Id;

    public TrainingJobStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    public bool IsActive => Status.State is TrainingJobState.Queued or TrainingJobState.Running;

    public void Update(Func<TrainingJobStatus, TrainingJobStatus> change)
    {
        lock (_gate)
        {
            _status = change(_status);
        }
    }
}

/// <summary>What GET /train/{id} returns.</summary>
public sealed record TrainingJobStatus(
    string Id,
    TrainingJobState State,
    string Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    PipelineStage Stage,
    double Progress,
    TrainingJobOutcome? Outcome,
    string? Error,
    string? Replica = null,
    PublicationStatus? Publication = null,
    string? LeaseWarning = null) // set when the training lease was lost while the job ran or published
{
    /// <summary>
    /// Why this job, now over, left no model to serve: its error, or the quality gate's refusal (nothing comes by
    /// waiting for either); null while it is queued or running, or when it promoted its model. A method, not a
    /// property, so that it is not written into the job's JSON.
    /// </summary>
    public string? WhyNoModel() => State switch
    {
        TrainingJobState.Failed => $"training job {Id} failed: {Error}",
        TrainingJobState.Succeeded when Outcome is { Promoted: false } outcome =>
            $"training job {Id} finished, but the quality gate did not promote its model ({outcome.NotPromotedReason}).",
        _ => null,
    };
}

/// <summary>A finished run; the test metrics are null when there are none (trained on every row: no test rows).</summary>
public sealed record TrainingJobOutcome(
    string RunId,
    string Learner,
    double? TestF1,
    double? TestPrecision,
    double? TestRecall,
    double? TestAccuracy,
    double? TestRocAuc,
    bool Promoted,
    string? ModelVersion,
    string? NotPromotedReason,
    string Tracking,
    string ArtifactSync,
    double DurationSeconds);
