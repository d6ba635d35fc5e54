using System.ComponentModel.DataAnnotations;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Replication;

/// <summary>How replicas share models and take turns training, bound from the "Replication" configuration section.</summary>
public sealed class ReplicationOptions : IValidatableObject
{
    public const string SectionName = "Replication";

    /// <summary>Seconds between two checks of final_model/LATEST (an unchanged pointer costs one conditional GET).</summary>
    [Range(1, 3600)]
    public int PollSeconds { get; set; } = 15;

    /// <summary>Lifetime of the training lease; its holder renews it every third of that, so a killed trainer's lease lapses after at most this long.</summary>
    [Range(3, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>auto (probe the store), conditional (If-None-Match / If-Match) or settle (write, wait, read back).</summary>
    [Pipeline.Configuration.Choice("auto", "conditional", "settle", ErrorMessage = "Replication:LeaseMode must be auto, conditional or settle.")]
    public string LeaseMode { get; set => field = Pipeline.Configuration.Setting.Lower(value); } = "auto";

    /// <summary>Settle delay of the write-then-read-back lease, in milliseconds (stores without conditional writes).</summary>
    [Range(100, 60000)]
    public int LeaseSettleMilliseconds { get; set; } = 2000;

    /// <summary>How long a training run's publication to S3 is retried (with backoff) before it is given up.</summary>
    [Range(1, 86400)]
    public int PublishRetrySeconds { get; set; } = 600;

    /// <summary>This replica's name in the lease and the logs; default: host name and process id.</summary>
    public string? ReplicaId { get; set; }

    public string ResolvedReplicaId => string.IsNullOrWhiteSpace(ReplicaId) ? $"{Environment.MachineName}-{Environment.ProcessId}" : ReplicaId;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // The name goes into log lines, the lease and the job records, and the page: a line break in it
        // (Replication__ReplicaId=$'a\nb') wrote a second, forged line into every log line that names the replica.
        if (ReplicaId is { } id && id.Any(char.IsControl))
        {
            yield return new ValidationResult(
                "Replication:ReplicaId has a control character (a line break, a tab, an escape): it names this replica in log lines, the training lease and the job records; give a name without one.",
                [nameof(ReplicaId)]);
        }

        // The write-then-read-back lease is won after the settle delay on a record whose expiry was set when it was
        // written, and first renewed a third of the lease later: a longer delay let the lease lapse while it was held.
        if (LeaseSettleMilliseconds > LeaseSeconds * 500L)
        {
            yield return new ValidationResult(
                $"Replication:LeaseSettleMilliseconds ({LeaseSettleMilliseconds}) must be at most half of Replication:LeaseSeconds ({LeaseSeconds} s), or the lease could lapse while it is held.",
                [nameof(LeaseSettleMilliseconds)]);
        }
    }

    public S3LeaseSettings LeaseSettings => new()
    {
        Duration = TimeSpan.FromSeconds(LeaseSeconds),
        SettleDelay = TimeSpan.FromMilliseconds(LeaseSettleMilliseconds),
        Mode = LeaseMode switch
        {
            "conditional" => S3LeaseMode.Conditional,
            "settle" => S3LeaseMode.Settle,
            _ => S3LeaseMode.Auto,
        },
    };
}
