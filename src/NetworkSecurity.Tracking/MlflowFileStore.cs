using System.Globalization;
using System.Security.Cryptography;
using NetworkSecurity.Pipeline.Artifacts;

namespace NetworkSecurity.Tracking;

/// <summary>The experiments of an MLflow file store: read from any meta.yaml MLflow or this product wrote, created as MLflow creates them.</summary>
internal sealed class MlflowFileStore(string root)
{
    public const string TrashFolder = ".trash";
    private static readonly string[] ReservedFolders = [TrashFolder, "models"]; // MLflow's FileStore keeps registered models in models/

    public string Root { get; } = root;

    public sealed record Experiment(string Id, string Name, string Directory, string ArtifactLocation, bool IsDeleted);

    /// <summary>The file in the root that writers lock while they find or create an experiment (MLflow lists only folders).</summary>
    public const string LockFileName = ".experiments.lock";

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
        var active = System.IO.Directory.EnumerateDirectories(Root).Where(d => !ReservedFolders.Contains(Path.GetFileName(d)) && !IsTemporary(d)) // one a killed process left
            .Select(d => Read(d, inTrash: false));
        var deleted = System.IO.Directory.Exists(trash) ? System.IO.Directory.EnumerateDirectories(trash).Select(d => Read(d, inTrash: true)) : [];
        return active.Concat(deleted).Where(e => e is not null && e.Name == name).OrderBy(e => e!.IsDeleted).FirstOrDefault();
    }

    /// <summary>Creates the experiment (and, in a new store, the Default experiment 0 and .trash, as MLflow's FileStore does).</summary>
    public Experiment CreateExperiment(string name, DateTimeOffset now)
    {
        var isNew = !System.IO.Directory.Exists(Root)
            || !System.IO.Directory.EnumerateFileSystemEntries(Root).Any(e => Path.GetFileName(e) != LockFileName && !IsTemporary(e));
        // An empty 0/ is a Default experiment whose meta.yaml could not be written (a full disk, before experiments were
        // made under a temporary name): MLflow's client, which logs to experiment 0 by default, failed on it for ever.
        var defaultFolder = Path.Combine(Root, "0");
        if (isNew || (System.IO.Directory.Exists(defaultFolder) && !System.IO.Directory.EnumerateFileSystemEntries(defaultFolder).Any()))
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
        var millis = now.ToUnixTimeMilliseconds();
        var artifactLocation = new Uri(directory).AbsoluteUri;
        var meta = string.Join('\n',
            $"artifact_location: {PyYamlScalar.Format(artifactLocation)}",
            $"creation_time: {millis}",
            $"experiment_id: {PyYamlScalar.Format(id)}",
            $"last_update_time: {millis}",
            "lifecycle_stage: active",
            $"name: {PyYamlScalar.Format(name)}",
            "");
        if (System.IO.Directory.Exists(directory))
        {
            SafeFile.WriteAllText(Path.Combine(directory, "meta.yaml"), meta); // the empty 0/ above
        }
        else
        {
            // Made under a temporary name and renamed, as files are: a write that failed (a full disk) left a folder
            // without meta.yaml, which MLflow lists as a malformed experiment.
            var temporary = Path.Combine(Root, $".{id}.{Guid.NewGuid():N}.tmp");
            System.IO.Directory.CreateDirectory(temporary);
            try
            {
                SafeFile.WriteAllText(Path.Combine(temporary, "meta.yaml"), meta);
                System.IO.Directory.Move(temporary, directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                TryDelete(temporary);
                throw;
            }
        }

        return new Experiment(id, name, directory, artifactLocation, IsDeleted: false);
    }

    private static bool IsTemporary(string path) =>
        Path.GetFileName(path) is var name && name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal);

    private static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the write's own failure is what the run reports.
        }
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
