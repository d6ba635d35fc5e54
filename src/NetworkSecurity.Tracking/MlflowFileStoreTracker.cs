using System.Security.Cryptography;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking;

/// <summary>
/// Records runs in MLflow's file store layout (mlruns/), readable by <c>mlflow ui --backend-store-uri ./mlruns</c>
/// (MLflow 3.13+ also needs MLFLOW_ALLOW_FILE_STORE=true) and shareable with the MLflow client: experiments are found by
/// the name in their meta.yaml whoever wrote it, a deleted experiment (in .trash) keeps its name as MLflow does, and
/// files are written as MLflow writes them (meta.yaml through PyYAML's quoting rules, status as an integer, one file
/// per metric with "timestamp value step" lines, raw param and tag values, artifacts under the experiment's
/// artifact location).
/// </summary>
public sealed class MlflowFileStoreTracker(string root, TimeProvider? clock = null) : IExperimentTracker
{
    private static readonly Lock Gate = new(); // one experiment per name even with concurrent runs in this process
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly MlflowFileStore _store = new(Path.GetFullPath(root));

    public string Root => _store.Root;

    public string Description => $"MLflow file store {Root}";

    /// <summary>The store MLFLOW_TRACKING_URI names: unset → ./mlruns, a path or file: URI → there (servers: <see cref="MlflowRestTracker"/>).</summary>
    public static MlflowFileStoreTracker FromTrackingUri(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            return new MlflowFileStoreTracker("mlruns");
        }

        if (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("An http(s) tracking URI names an MLflow server, not a file store.", nameof(uri));
        }

        if (uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return new MlflowFileStoreTracker(MlflowOptions.FileStorePath(uri, out var fileProblem) ?? throw new ArgumentException(fileProblem, nameof(uri)));
        }

        if (MlflowOptions.TrackingUriProblem(uri) is { } problem)
        {
            throw new ArgumentException(problem, nameof(uri));
        }

        return new MlflowFileStoreTracker(uri);
    }

    public Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (MlflowRules.ExperimentNameProblem(run.ExperimentName) is { } nameProblem)
        {
            return Task.FromResult(new TrackingResult(false, null, $"run not tracked in {Description}: {nameProblem}"));
        }

        var mlflowRun = WithFileNames(MlflowRun.From(run));
        try
        {
            MlflowFileStore.Experiment experiment;
            lock (Gate)
            {
                using var storeLock = AcquireStoreLock();
                experiment = _store.FindExperiment(run.ExperimentName) ?? _store.CreateExperiment(run.ExperimentName, _clock.GetUtcNow());
            }

            return Task.FromResult(experiment.IsDeleted
                ? new TrackingResult(false, null, DeletedMessage(experiment))
                : WriteRun(experiment, mlflowRun));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return Task.FromResult(new TrackingResult(false, null, $"could not write the MLflow file store at {Root}: {ex.Message}"));
        }
    }

    /// <summary>
    /// An exclusive lock on a file in the store's root, held while an experiment is found or created: two processes
    /// (a CLI run beside the service) otherwise both found no experiment and created two of one name. MLflow lists only
    /// folders in the root, so the file is invisible to it.
    /// </summary>
    private FileStream AcquireStoreLock()
    {
        Directory.CreateDirectory(Root);
        var path = Path.Combine(Root, MlflowFileStore.LockFileName);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockWait && File.Exists(path))
            {
                Thread.Sleep(25); // another process is finding or creating an experiment: milliseconds
            }
        }
    }

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    private TrackingResult WriteRun(MlflowFileStore.Experiment experiment, MlflowRun run)
    {
        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)); // like uuid4().hex
        var runDirectory = Path.Combine(experiment.Directory, runId);
        try
        {
            return WriteRun(experiment, run, runId, runDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // No half-written run left behind (tags and metrics without meta.yaml, which MLflow skips as malformed).
            TryDelete(runDirectory);
            throw;
        }
    }

    private TrackingResult WriteRun(MlflowFileStore.Experiment experiment, MlflowRun run, string runId, string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        foreach (var (key, value) in run.Tags)
        {
            SafeFile.WriteAllText(KeyPath(runDirectory, "tags", key), value);
        }

        foreach (var (key, value) in run.Parameters)
        {
            SafeFile.WriteAllText(KeyPath(runDirectory, "params", key), value);
        }

        foreach (var (key, value) in run.Metrics)
        {
            SafeFile.WriteAllText(KeyPath(runDirectory, "metrics", key), $"{run.MetricTimestamp} {MlflowRules.FormatMetric(value)} 0\n");
        }

        // Like MLflow: the run's artifacts live at <experiment artifact_location>/<run_id>/artifacts.
        var artifactUri = experiment.ArtifactLocation.TrimEnd('/') + "/" + runId + "/artifacts";
        var artifactNote = "";
        if (MlflowFileStore.LocalPath(experiment.ArtifactLocation) is { } artifactRoot)
        {
            var artifacts = Path.Combine(artifactRoot, runId, "artifacts");
            try
            {
                Directory.CreateDirectory(artifacts);
                foreach (var artifact in run.Artifacts)
                {
                    Copy(artifact.LocalPath, Path.Combine(artifacts, artifact.ArtifactPath, Path.GetFileName(artifact.LocalPath.TrimEnd(Path.DirectorySeparatorChar))));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The run is recorded all the same (as on a server, whose artifact upload may fail): its params and
                // metrics are not lost with the artifacts, and the message says where they could not go. The files
                // copied so far go: on a full disk they took the room meta.yaml needed, and the whole run was lost.
                TryDelete(artifacts);
                artifactNote = $"; artifacts not copied to {artifacts}: {ex.Message}";
            }
        }
        else if (run.Artifacts.Count > 0)
        {
            artifactNote = $"; artifacts not copied: experiment '{experiment.Name}' keeps them at '{experiment.ArtifactLocation}', which is not a local folder";
        }

        // meta.yaml last: a reader sees the run only once it is complete.
        SafeFile.WriteAllText(Path.Combine(runDirectory, "meta.yaml"), string.Join('\n',
            $"artifact_uri: {PyYamlScalar.Format(artifactUri)}",
            "deleted_time: null",
            $"end_time: {run.EndTime}",
            "entry_point_name: ''",
            $"experiment_id: {PyYamlScalar.Format(experiment.Id)}",
            "lifecycle_stage: active",
            $"run_id: {runId}",
            $"run_name: {PyYamlScalar.Format(run.RunName)}",
            $"run_uuid: {runId}",
            "source_name: ''",
            "source_type: 4",
            "source_version: ''",
            $"start_time: {run.StartTime}",
            $"status: {run.StatusCode}",
            "tags: []",
            $"user_id: {PyYamlScalar.Format(run.User)}",
            ""));
        return new TrackingResult(true, runId, $"run {runId} in experiment '{run.ExperimentName}' (id {experiment.Id}){artifactNote}{run.SkippedNote}");
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: MLflow skips a run folder without meta.yaml.
        }
    }

    private string DeletedMessage(MlflowFileStore.Experiment experiment) =>
        $"run not tracked: experiment '{experiment.Name}' (id {experiment.Id}) is deleted in the MLflow file store {Root} (it is in .trash), "
        + "and MLflow does not reuse a deleted experiment's name. "
        + $"Restore it with `MLFLOW_TRACKING_URI={Root} mlflow experiments restore --experiment-id {experiment.Id}`, "
        + $"remove it for good with `mlflow gc --backend-store-uri {Root} --experiment-ids {experiment.Id}`, "
        + "or set MLFLOW_EXPERIMENT_NAME to another name.";

    /// <summary>
    /// The run without the keys this store cannot hold: each key is a file (each '/' a folder), and a name longer than
    /// the file system's 255 bytes failed the whole run ("File name too long"): 130 Cyrillic letters are 260 bytes,
    /// though MLflow's rule of 250 characters lets them through (a SQL-backed server takes them).
    /// </summary>
    private static MlflowRun WithFileNames(MlflowRun run)
    {
        var skipped = new List<string>(run.Skipped);
        List<KeyValuePair<string, T>> Keep<T>(string kind, IReadOnlyList<KeyValuePair<string, T>> pairs) =>
            pairs.Where(pair =>
            {
                var longest = pair.Key.Split('/').Max(part => System.Text.Encoding.UTF8.GetByteCount(part));
                if (longest <= MaxFileNameBytes)
                {
                    return true;
                }

                skipped.Add($"{kind} '{pair.Key}' has a part of {longest} bytes in UTF-8: MLflow's file store keeps each key as a file, and a file name holds at most {MaxFileNameBytes} bytes");
                return false;
            }).ToList();

        return run with
        {
            Tags = Keep("tag", run.Tags),
            Parameters = Keep("param", run.Parameters),
            Metrics = Keep("metric", run.Metrics),
            Skipped = skipped,
        };
    }

    private const int MaxFileNameBytes = 255;

    private static string KeyPath(string runDirectory, string kind, string key) =>
        Path.Combine(runDirectory, kind, key.Replace('/', Path.DirectorySeparatorChar));

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
}
