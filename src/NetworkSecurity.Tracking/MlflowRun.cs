using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking;

/// <summary>
/// What one training run puts into MLflow, decided once and written twice (file store and server): the run's tags plus
/// MLflow's system tags, params and tags truncated as MLflow truncates them, only finite metrics (MLflow charts and JSON
/// have no NaN), and every key MLflow would refuse left out and named in <see cref="Skipped"/> instead of failing the run
/// (including the second of "a" and "a/b" of one kind: a file and a folder cannot share a name in MLflow's store).
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
        var metricPaths = new KeyPaths();
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
            else if (metricPaths.Clash(key) is { } clash)
            {
                skipped.Add($"metric {clash}");
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
        var paths = new KeyPaths();
        foreach (var (key, value) in pairs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if ((MlflowRules.KeyProblem(key) ?? paths.Clash(key)) is { } problem)
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

    /// <summary>
    /// The keys of one kind kept so far, as MLflow's file store lays them out: each key a file, each '/' a folder. A key
    /// that would be a file where a kept key needs a folder, or the reverse ("a" and "a/b"), clashes: the file store
    /// (MLflow's own, or a server's) fails on it, and with it the whole run.
    /// </summary>
    private sealed class KeyPaths
    {
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal); // folder -> a key inside it

        /// <summary>Why <paramref name="key"/> cannot join the kept keys, or null (it is then kept).</summary>
        public string? Clash(string key)
        {
            if (_folders.TryGetValue(key, out var inside))
            {
                return Problem(key, inside);
            }

            for (var slash = key.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = key.IndexOf('/', slash + 1))
            {
                if (_keys.Contains(key[..slash]))
                {
                    return Problem(key, key[..slash]);
                }
            }

            _keys.Add(key);
            for (var slash = key.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = key.IndexOf('/', slash + 1))
            {
                _folders.TryAdd(key[..slash], key);
            }

            return null;
        }

        private static string Problem(string key, string kept) =>
            $"'{key}' clashes with '{kept}': MLflow keeps each key as a file and '/' makes a folder, so one name cannot be both";
    }
}
