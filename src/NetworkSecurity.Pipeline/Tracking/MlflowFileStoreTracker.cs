using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NetworkSecurity.Pipeline.Artifacts;

namespace NetworkSecurity.Pipeline.Tracking;

/// <summary>
/// Records runs in MLflow's file store layout (mlruns/), readable by <c>mlflow ui --backend-store-uri ./mlruns</c>
/// (MLflow 3.13+ also needs MLFLOW_ALLOW_FILE_STORE=true). Layout, types and key rules follow MLflow 2.x–3.x:
/// experiment and run meta.yaml (status as an integer, ids as quoted strings), one file per metric
/// ("timestamp value step" lines), param and tag files with raw values, artifacts copied under the run.
/// </summary>
public sealed partial class MlflowFileStoreTracker(string root, TimeProvider? clock = null) : IExperimentTracker
{
    private const int MaxParamLength = 6000;
    private const int MaxTagLength = 8000;
    private static readonly Lock Gate = new(); // experiments are created once even with concurrent runs
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Root { get; } = Path.GetFullPath(root);

    public string Description => $"MLflow file store {Root}";

    /// <summary>The store MLFLOW_TRACKING_URI names: unset → ./mlruns, a path or file: URI → there (servers: see NetworkSecurity.Tracking).</summary>
    public static IExperimentTracker FromTrackingUri(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            return new MlflowFileStoreTracker("mlruns");
        }

        if (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("An http(s) tracking URI names an MLflow server, not a file store.", nameof(uri));
        }

        return new MlflowFileStoreTracker(uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(uri).LocalPath : uri);
    }

    public Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            var experimentId = EnsureExperiment(run.ExperimentName);
            var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var runDirectory = Path.Combine(Root, experimentId, runId);
            Directory.CreateDirectory(runDirectory);
            var user = run.User;
            var tags = run.MlflowTags();
            foreach (var (key, value) in tags)
            {
                WriteValue(runDirectory, "tags", key, Truncate(value, MaxTagLength));
            }

            foreach (var (key, value) in run.Parameters)
            {
                WriteValue(runDirectory, "params", key, Truncate(value, MaxParamLength));
            }

            var timestamp = run.EndTime.ToUnixTimeMilliseconds();
            foreach (var (key, value) in run.Metrics)
            {
                WriteValue(runDirectory, "metrics", key, $"{timestamp} {FormatMetric(value)} 0\n");
            }

            var artifacts = Path.Combine(runDirectory, "artifacts");
            Directory.CreateDirectory(artifacts);
            foreach (var artifact in run.Artifacts)
            {
                Copy(artifact.LocalPath, Path.Combine(artifacts, artifact.ArtifactPath, Path.GetFileName(artifact.LocalPath.TrimEnd(Path.DirectorySeparatorChar))));
            }

            // meta.yaml last: a reader sees the run only once it is complete.
            SafeFile.WriteAllText(Path.Combine(runDirectory, "meta.yaml"), string.Join('\n',
                $"artifact_uri: {new Uri(artifacts).AbsoluteUri}",
                "deleted_time: null",
                $"end_time: {timestamp}",
                "entry_point_name: ''",
                $"experiment_id: '{experimentId}'",
                "lifecycle_stage: active",
                $"run_id: {runId}",
                $"run_name: {Quote(run.RunName)}",
                $"run_uuid: {runId}",
                "source_name: ''",
                "source_type: 4",
                "source_version: ''",
                $"start_time: {run.StartTime.ToUnixTimeMilliseconds()}",
                $"status: {(run.Succeeded ? 3 : 4)}",
                "tags: []",
                $"user_id: {Quote(user)}",
                ""));
            return Task.FromResult(new TrackingResult(true, runId, $"run {runId} in experiment '{run.ExperimentName}' (id {experimentId})"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Task.FromResult(new TrackingResult(false, null, $"could not write the MLflow file store at {Root}: {ex.Message}"));
        }
    }

    private string EnsureExperiment(string name)
    {
        lock (Gate)
        {
            Directory.CreateDirectory(Path.Combine(Root, ".trash"));
            if (!File.Exists(Path.Combine(Root, "0", "meta.yaml")))
            {
                WriteExperiment("0", "Default");
            }

            foreach (var directory in Directory.GetDirectories(Root))
            {
                var meta = Path.Combine(directory, "meta.yaml");
                if (File.Exists(meta) && File.ReadLines(meta).Any(l => l == $"name: {Quote(name)}"))
                {
                    return Path.GetFileName(directory);
                }
            }

            string id;
            do
            {
                // Like MLflow: a numeric id without a leading zero, free in the store and in .trash.
                id = (1 + (BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) % 899_999_999_999_999_999UL) + 99_999_999_999_999_999UL).ToString(CultureInfo.InvariantCulture);
            }
            while (Directory.Exists(Path.Combine(Root, id)) || Directory.Exists(Path.Combine(Root, ".trash", id)));

            WriteExperiment(id, name);
            return id;
        }
    }

    private void WriteExperiment(string id, string name)
    {
        var directory = Path.Combine(Root, id);
        Directory.CreateDirectory(directory);
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        SafeFile.WriteAllText(Path.Combine(directory, "meta.yaml"), string.Join('\n',
            $"artifact_location: {new Uri(directory).AbsoluteUri}",
            $"creation_time: {now}",
            $"experiment_id: '{id}'",
            $"last_update_time: {now}",
            "lifecycle_stage: active",
            $"name: {Quote(name)}",
            ""));
    }

    private static void WriteValue(string runDirectory, string kind, string key, string value)
    {
        if (!IsValidKey(key))
        {
            throw new ArgumentException($"'{key}' is not a valid MLflow {kind} key.");
        }

        SafeFile.WriteAllText(Path.Combine(runDirectory, kind, key.Replace('/', Path.DirectorySeparatorChar)), value);
    }

    /// <summary>MLflow's key rules: letters, digits, _ - . / and space; ≤ 250 chars; no empty, "." or ".." segment.</summary>
    public static bool IsValidKey(string key) =>
        key.Length is > 0 and <= 250
        && KeyPattern().IsMatch(key)
        && key.Split('/').All(segment => segment.Length > 0 && segment is not ("." or ".."));

    public static string FormatMetric(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "Infinity",
        double.NegativeInfinity => "-Infinity",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static void Copy(string source, string target)
    {
        if (File.Exists(source))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target, overwrite: true);
            return;
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    // Single-quoted YAML scalar: safe for any text on one line.
    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"^[A-Za-z0-9_\-. /]+$")]
    private static partial Regex KeyPattern();
}
