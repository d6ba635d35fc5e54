using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking;

/// <summary>
/// What one training run puts into MLflow, decided once and written twice (file store and server): the run's tags plus
/// MLflow's system tags, params and tags truncated as MLflow truncates them, only finite metrics (MLflow charts and JSON
/// have no NaN), and every key MLflow would refuse left out and named in <see cref="Skipped"/> instead of failing the run.
/// </summary>
public sealed record MlflowRun(
    string ExperimentName,
    string RunName,
    string User,
    long StartTime,
    long EndTime,
    bool Succeeded,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    IReadOnlyList<KeyValuePair<string, string>> Parameters,
    IReadOnlyList<KeyValuePair<string, double>> Metrics,
    IReadOnlyList<TrackedArtifact> Artifacts,
    IReadOnlyList<string> Skipped)
{
    public const string SourceName = "NetworkSecurity.Api train";

    /// <summary>Stopped rather than failed (cancelled, a shutdown).</summary>
    public bool Killed { get; init; }

    /// <summary>The status as the REST API names it.</summary>
    public string Status => Succeeded ? "FINISHED" : Killed ? "KILLED" : "FAILED";

    /// <summary>The status as the file store's meta.yaml stores it (RunStatus enum: FINISHED=3, FAILED=4, KILLED=5).</summary>
    public int StatusCode => Succeeded ? 3 : Killed ? 5 : 4;

    /// <summary>Metric timestamp: when the run ended (every metric is logged once, at step 0).</summary>
    public long MetricTimestamp => EndTime;

    /// <summary>"; not logged: …" for the tracking message, or "".</summary>
    public string SkippedNote => Skipped.Count == 0 ? "" : $"; not logged (MLflow refuses them): {string.Join("; ", Skipped)}";

    public static MlflowRun From(TrackedRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var skipped = new List<string>();
        var tags = new Dictionary<string, string>(run.Tags)
        {
            ["mlflow.runName"] = run.RunName,
            ["mlflow.user"] = run.User,
            ["mlflow.source.name"] = SourceName,
            ["mlflow.source.type"] = "LOCAL",
        };
        var metrics = new List<KeyValuePair<string, double>>();
        foreach (var (key, value) in run.Metrics)
        {
            if (MlflowRules.KeyProblem(key) is { } problem)
            {
                skipped.Add($"metric {problem}");
            }
            else if (!double.IsFinite(value))
            {
                skipped.Add($"metric '{key}' is {MlflowRules.FormatMetric(value)}");
            }
            else
            {
                metrics.Add(new(key, value));
            }
        }

        return new MlflowRun(
            run.ExperimentName, run.RunName, run.User, run.StartTime.ToUnixTimeMilliseconds(), run.EndTime.ToUnixTimeMilliseconds(), run.Succeeded,
            Valid("tag", tags, MlflowRules.MaxTagValueLength, skipped),
            Valid("param", run.Parameters, MlflowRules.MaxParamValueLength, skipped),
            metrics, run.Artifacts, skipped)
        {
            Killed = run.Cancelled && !run.Succeeded,
        };
    }

    private static List<KeyValuePair<string, string>> Valid(string kind, IEnumerable<KeyValuePair<string, string>> pairs, int maxValueLength, List<string> skipped)
    {
        var valid = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in pairs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (MlflowRules.KeyProblem(key) is { } problem)
            {
                skipped.Add($"{kind} {problem}");
            }
            else
            {
                valid.Add(new(key, MlflowRules.Truncate(value, maxValueLength)));
            }
        }

        return valid;
    }
}
