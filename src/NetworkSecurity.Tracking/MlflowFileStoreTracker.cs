using System.Globalization;
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

        return new MlflowFileStoreTracker(uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(uri).LocalPath : uri);
    }

    public Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (MlflowRules.ExperimentNameProblem(run.ExperimentName) is { } nameProblem)
        {
            return Task.FromResult(new TrackingResult(false, null, $"run not tracked in {Description}: {nameProblem}"));
        }

        var mlflowRun = MlflowRun.From(run);
        try
        {
            MlflowFileStore.Experiment experiment;
            lock (Gate)
            {
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

    private TrackingResult WriteRun(MlflowFileStore.Experiment experiment, MlflowRun run)
    {
        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)); // like uuid4().hex
        var runDirectory = Path.Combine(experiment.Directory, runId);
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
            Directory.CreateDirectory(artifacts);
            foreach (var artifact in run.Artifacts)
            {
                Copy(artifact.LocalPath, Path.Combine(artifacts, artifact.ArtifactPath, Path.GetFileName(artifact.LocalPath.TrimEnd(Path.DirectorySeparatorChar))));
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

    private string DeletedMessage(MlflowFileStore.Experiment experiment) =>
        $"run not tracked: experiment '{experiment.Name}' (id {experiment.Id}) is deleted in the MLflow file store {Root} (it is in .trash), "
        + "and MLflow does not reuse a deleted experiment's name. "
        + $"Restore it with `MLFLOW_TRACKING_URI={Root} mlflow experiments restore --experiment-id {experiment.Id}`, "
        + $"remove it for good with `mlflow gc --backend-store-uri {Root} --experiment-ids {experiment.Id}`, "
        + "or set MLFLOW_EXPERIMENT_NAME to another name.";

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

/// <summary>The experiments of an MLflow file store: read from any meta.yaml MLflow or this product wrote, created as MLflow creates them.</summary>
internal sealed class MlflowFileStore(string root)
{
    public const string TrashFolder = ".trash";
    private static readonly string[] ReservedFolders = [TrashFolder, "models"]; // MLflow's FileStore keeps registered models in models/

    public string Root { get; } = root;

    public sealed record Experiment(string Id, string Name, string Directory, string ArtifactLocation, bool IsDeleted);

    /// <summary>
    /// The experiment named <paramref name="name"/>, active or deleted (MLflow's get_experiment_by_name looks in .trash
    /// too), or null. An active one wins over a deleted one of the same name, so a store that already holds both keeps working.
    /// </summary>
    public Experiment? FindExperiment(string name)
    {
        if (!System.IO.Directory.Exists(Root))
        {
            return null;
        }

        var trash = Path.Combine(Root, TrashFolder);
        var active = System.IO.Directory.EnumerateDirectories(Root).Where(d => !ReservedFolders.Contains(Path.GetFileName(d)))
            .Select(d => Read(d, inTrash: false));
        var deleted = System.IO.Directory.Exists(trash) ? System.IO.Directory.EnumerateDirectories(trash).Select(d => Read(d, inTrash: true)) : [];
        return active.Concat(deleted).Where(e => e is not null && e.Name == name).OrderBy(e => e!.IsDeleted).FirstOrDefault();
    }

    /// <summary>Creates the experiment (and, in a new store, the Default experiment 0 and .trash, as MLflow's FileStore does).</summary>
    public Experiment CreateExperiment(string name, DateTimeOffset now)
    {
        var isNew = !System.IO.Directory.Exists(Root) || !System.IO.Directory.EnumerateFileSystemEntries(Root).Any();
        if (isNew)
        {
            WriteExperiment("0", "Default", now);
        }

        System.IO.Directory.CreateDirectory(Path.Combine(Root, TrashFolder));
        string id;
        do
        {
            // Like MLflow: a numeric id without a leading zero, free in the store and in .trash.
            id = (1 + (BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) % 899_999_999_999_999_999UL) + 99_999_999_999_999_999UL).ToString(CultureInfo.InvariantCulture);
        }
        while (System.IO.Directory.Exists(Path.Combine(Root, id)) || System.IO.Directory.Exists(Path.Combine(Root, TrashFolder, id)));

        return WriteExperiment(id, name, now);
    }

    /// <summary>The local folder an artifact location names (file: URI or path), or null for remote stores (s3:, mlflow-artifacts:, …).</summary>
    public static string? LocalPath(string artifactLocation)
    {
        if (Uri.TryCreate(artifactLocation, UriKind.Absolute, out var uri))
        {
            return uri.IsFile ? uri.LocalPath : null;
        }

        return Path.GetFullPath(artifactLocation); // a relative path, as old MLflow versions wrote
    }

    private Experiment WriteExperiment(string id, string name, DateTimeOffset now)
    {
        var directory = Path.Combine(Root, id);
        System.IO.Directory.CreateDirectory(directory);
        var millis = now.ToUnixTimeMilliseconds();
        var artifactLocation = new Uri(directory).AbsoluteUri;
        SafeFile.WriteAllText(Path.Combine(directory, "meta.yaml"), string.Join('\n',
            $"artifact_location: {PyYamlScalar.Format(artifactLocation)}",
            $"creation_time: {millis}",
            $"experiment_id: {PyYamlScalar.Format(id)}",
            $"last_update_time: {millis}",
            "lifecycle_stage: active",
            $"name: {PyYamlScalar.Format(name)}",
            ""));
        return new Experiment(id, name, directory, artifactLocation, IsDeleted: false);
    }

    // MLflow skips experiments whose meta.yaml is missing or malformed when listing; so does this.
    private static Experiment? Read(string directory, bool inTrash)
    {
        var meta = MlflowYaml.ReadMapping(Path.Combine(directory, "meta.yaml"));
        if (meta is null || !meta.TryGetValue("name", out var name) || name is null)
        {
            return null;
        }

        var id = meta.GetValueOrDefault("experiment_id") ?? Path.GetFileName(directory);
        var artifactLocation = meta.GetValueOrDefault("artifact_location") is { Length: > 0 } location ? location : new Uri(directory).AbsoluteUri;
        return new Experiment(id, name, directory, artifactLocation, inTrash || meta.GetValueOrDefault("lifecycle_stage") == "deleted");
    }
}
