using System.Text.Json;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// The live model folder. Each promoted model gets its own sub-folder (final_model/&lt;version&gt;/ with model.nsm,
/// model_card.json and manifest.json, the SHA-256 of every other file), filled under a temporary name and renamed into
/// place; the file CURRENT, replaced atomically, names the live one. Readers therefore always see a complete model,
/// old or new, and a model whose bytes changed afterwards is refused instead of silently giving other answers.
/// </summary>
public sealed class ModelStore(string directory, int versionsKept = ModelStore.DefaultVersionsKept)
{
    public const string BundleFileName = "model.nsm";
    public const string CardFileName = "model_card.json";
    public const string ManifestFileName = "manifest.json";
    public const int DefaultVersionsKept = 5;
    private const string PointerFileName = "CURRENT";
    private const string StagingPrefix = ".staging-";

    // CURRENT is written by a promotion (the training worker) and by an adoption (the replica sync): one at a time in
    // this process, so an adoption's check of what is live and its write are one step.
    private static readonly Lock PointerWrites = new();

    // Folders a replica downloads a published version into before adopting it (.pull- and .sync- in earlier versions).
    private static readonly string[] DownloadPrefixes = [".download-", ".pull-", ".sync-"];

    public string Directory { get; } = directory;

    /// <summary>The version CURRENT points at, or null when no model was promoted yet (or CURRENT names no folder).</summary>
    public string? CurrentVersion
    {
        get
        {
            var version = PointedVersion;
            return version is not null && System.IO.Directory.Exists(Path.Combine(Directory, version)) ? version : null;
        }
    }

    /// <summary>Why there is no model to load, for a message: nothing promoted yet, or a CURRENT that names no version.</summary>
    public string NoModelReason()
    {
        var pointer = Path.Combine(Directory, PointerFileName);
        if (System.IO.Directory.Exists(pointer))
        {
            return $"'{pointer}' is a folder, not the file naming the live version";
        }

        if (!File.Exists(pointer))
        {
            // --final-model final_model/<version>: there is a model, and "run the train command first" sent users to retrain.
            if (File.Exists(Path.Combine(Directory, BundleFileName)))
            {
                return $"'{Directory}' is the folder of one model version (it holds {BundleFileName}), not the final model folder: give the folder it is in, whose {PointerFileName} names the live version";
            }

            return PromotedFolders().Any()
                ? $"'{pointer}' is missing beside promoted versions"
                : $"no model has been promoted to '{Directory}' yet: run the train command first";
        }

        var text = File.ReadAllText(pointer).Trim();
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return text.Length == 0
            ? $"'{pointer}' is empty: it should name the live version (a folder like 20260101_120000 beside it)"
            : $"'{pointer}' says '{shown}', which is not a version name (a folder like 20260101_120000 beside it)";
    }

    /// <summary>What CURRENT says, whether or not that folder exists; null when there is no CURRENT.</summary>
    public string? PointedVersion
    {
        get
        {
            var pointer = Path.Combine(Directory, PointerFileName);
            if (!File.Exists(pointer))
            {
                return null;
            }

            var version = File.ReadAllText(pointer).Trim();
            return version.Length > 0 && IsVersionName(version) ? version : null;
        }
    }

    /// <summary>Folder of the live model, or null.</summary>
    public string? CurrentModelDirectory => CurrentVersion is { } v ? Path.Combine(Directory, v) : null;

    public void Promote(ModelBundle bundle)
    {
        if (File.Exists(Directory))
        {
            throw new PipelineException($"The final model folder '{Directory}' is a file; the model was not promoted.");
        }

        System.IO.Directory.CreateDirectory(Directory);
        var staging = Path.Combine(Directory, $"{StagingPrefix}{bundle.Version}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            bundle.Save(Path.Combine(staging, BundleFileName));
            SafeFile.WriteAllText(Path.Combine(staging, CardFileName), JsonSerializer.Serialize(bundle.Card, ReportWriter.JsonOptions));
            ModelManifest.Write(staging, ManifestFileName);
            // A version is promoted once: a folder of that name holds another run's model (two runs of one second,
            // with different artifact folders), which must not be replaced without a word.
            var target = Path.Combine(Directory, bundle.Version);
            if (System.IO.Directory.Exists(target))
            {
                throw new PipelineException($"{target} already holds a promoted model of version {bundle.Version} (another run of the same second); this run's model was not promoted.");
            }

            System.IO.Directory.Move(staging, target);
        }
        catch
        {
            if (System.IO.Directory.Exists(staging))
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }

            throw;
        }

        try
        {
            lock (PointerWrites)
            {
                SafeFile.WriteAllText(Path.Combine(Directory, PointerFileName), bundle.Version);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not live, so not kept: a complete folder left here would be served after a restart that finds CURRENT
            // unusable (the newest valid version), and counted among the versions kept.
            var target = Path.Combine(Directory, bundle.Version);
            try
            {
                System.IO.Directory.Delete(target, recursive: true);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                throw new PipelineException($"Model {bundle.Version} could not be made live: {PointerFileName} could not be written ({ex.Message}), and its folder {target} could not be removed ({cleanup.Message}); remove it by hand. The previous model stays live.", ex);
            }

            throw new PipelineException($"Model {bundle.Version} could not be made live: {PointerFileName} could not be written ({ex.Message}); its folder was removed and the previous model stays live.", ex);
        }

        PruneOldVersions(bundle.Version);
    }

    /// <summary>
    /// Makes a complete model folder (e.g. downloaded from object storage) the live version: moved into place under
    /// its version name, then CURRENT is replaced atomically. Its manifest is checked when it is loaded.
    /// </summary>
    public void Adopt(string folder, string version)
    {
        if (!File.Exists(Path.Combine(folder, BundleFileName)))
        {
            throw new PipelineException($"'{folder}' has no {BundleFileName}: not a model folder.");
        }

        var target = Path.Combine(Directory, version);
        lock (PointerWrites)
        {
            if (System.IO.Directory.Exists(target))
            {
                System.IO.Directory.Delete(target, recursive: true);
            }

            System.IO.Directory.Move(folder, target);
            // A newer version promoted here while this one was downloading stays live: never backwards.
            if (CurrentVersion is { } current && string.CompareOrdinal(current, version) > 0 && System.IO.Directory.Exists(Path.Combine(Directory, current)))
            {
                return;
            }

            SafeFile.WriteAllText(Path.Combine(Directory, PointerFileName), version);
            PruneOldVersions(version);
        }
    }

    /// <summary>
    /// Loads the version CURRENT names, after checking its manifest. Throws <see cref="PipelineException"/> saying what
    /// is wrong when CURRENT names a missing folder or the model fails the check; null when nothing was promoted yet.
    /// </summary>
    public ModelBundle? LoadCurrent(DataSchema? expectedSchema)
    {
        var version = PointedVersion;
        if (version is null)
        {
            return null;
        }

        var folder = Path.Combine(Directory, version);
        if (!System.IO.Directory.Exists(folder))
        {
            throw new PipelineException($"{Path.Combine(Directory, PointerFileName)} names version {version}, but {folder} does not exist.");
        }

        return LoadVerified(folder, expectedSchema);
    }

    /// <summary>
    /// Loads the version CURRENT names or, when that one is missing or fails the integrity check, the newest older
    /// version that passes; every version skipped is listed with the reason. Empty when nothing was promoted.
    /// </summary>
    public ModelLoadResult LoadLatestValid(DataSchema? expectedSchema)
    {
        var pointed = PointedVersion;
        var skipped = new List<SkippedVersion>();
        var candidates = new List<string>();
        if (pointed is not null)
        {
            candidates.Add(pointed);
        }

        // Older than the one CURRENT names (any version folder: a damaged one is skipped with its reason), or, with no
        // usable CURRENT, every promoted version.
        IEnumerable<DirectoryInfo> older = pointed is null
            ? PromotedFolders()
            : System.IO.Directory.Exists(Directory) ? new DirectoryInfo(Directory).GetDirectories().Where(d => IsVersionName(d.Name) && string.CompareOrdinal(d.Name, pointed) < 0) : [];
        candidates.AddRange(older.Select(d => d.Name).OrderByDescending(name => name, StringComparer.Ordinal));

        if (candidates.Count == 0)
        {
            return new ModelLoadResult(null, null, []);
        }

        if (pointed is null)
        {
            // CURRENT missing, empty or naming no version, beside promoted versions: serve the newest valid one, and say why.
            skipped.Add(new SkippedVersion(PointerFileName, NoModelReason()));
        }

        foreach (var version in candidates)
        {
            var folder = Path.Combine(Directory, version);
            if (!System.IO.Directory.Exists(folder))
            {
                skipped.Add(new SkippedVersion(version, $"CURRENT names {version}, but the folder {folder} does not exist."));
                continue;
            }

            try
            {
                return new ModelLoadResult(LoadVerified(folder, expectedSchema), pointed, skipped);
            }
            catch (PipelineException ex)
            {
                skipped.Add(new SkippedVersion(version, ex.Message));
            }
        }

        return new ModelLoadResult(null, pointed, skipped);
    }

    /// <summary>Checks <paramref name="folder"/>'s manifest, then loads its bundle.</summary>
    public static ModelBundle LoadVerified(string folder, DataSchema? expectedSchema)
    {
        if (ModelManifest.Verify(folder, ManifestFileName) is { } problem)
        {
            throw new PipelineException($"Model {Path.GetFileName(folder)} ({folder}) failed its integrity check: {problem}");
        }

        return ModelBundle.Load(Path.Combine(folder, BundleFileName), expectedSchema);
    }

    /// <summary>A message about a download folder said of the version it holds: the folder is gone by the time anyone reads it.</summary>
    public static string Unstaged(string message, string downloadFolder, string version) =>
        message.Replace(downloadFolder, $"{version} as downloaded", StringComparison.Ordinal).Replace(Path.GetFileName(downloadFolder), version, StringComparison.Ordinal);

    /// <summary>A new folder inside the store to download a published version into, then <see cref="Adopt"/> it: on the
    /// same file system, so adopting is a rename; one a killed process leaves is removed by <see cref="RemoveAbandonedStaging"/>.</summary>
    public string NewDownloadFolder() => Path.Combine(Directory, $"{DownloadPrefixes[0]}{Guid.NewGuid():N}");

    /// <summary>
    /// Removes the temporary folders and CURRENT files of promotions and downloads that never finished (a killed process), when older than
    /// <paramref name="minimumAge"/> so a promotion running right now in another process is left alone.
    /// Returns the names removed.
    /// </summary>
    public IReadOnlyList<string> RemoveAbandonedStaging(TimeSpan minimumAge)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var removed = new List<string>();
        // Staging and download folders, and temporary files of a CURRENT write (.CURRENT.<guid>.tmp) that a killed process left.
        var store = new DirectoryInfo(Directory);
        var left = DownloadPrefixes.Prepend(StagingPrefix).SelectMany(prefix => store.GetDirectories(prefix + "*")).Cast<FileSystemInfo>()
            .Concat(store.GetFiles($".{PointerFileName}.*.tmp"));
        foreach (var entry in left)
        {
            if (DateTime.UtcNow - entry.LastWriteTimeUtc < minimumAge)
            {
                continue;
            }

            try
            {
                if (entry is DirectoryInfo folder)
                {
                    folder.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }

                removed.Add(entry.Name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Still in use or not ours to delete: tried again at the next start.
            }
        }

        return removed;
    }

    /// <summary>Version folder names are plain names (timestamps): no dot folders, no path separators.</summary>
    private static bool IsVersionName(string name) =>
        !name.StartsWith('.') && name.IndexOfAny(['/', '\\']) < 0 && name != "..";

    // The version folders that hold a model file (whatever state the rest of it is in).
    private IEnumerable<DirectoryInfo> PromotedFolders() =>
        System.IO.Directory.Exists(Directory)
            ? new DirectoryInfo(Directory).GetDirectories().Where(d => IsVersionName(d.Name) && File.Exists(Path.Combine(d.FullName, BundleFileName)))
            : [];

    private void PruneOldVersions(string current)
    {
        var versions = PromotedFolders()
            .Where(d => d.Name != current)
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .Skip(Math.Max(1, versionsKept) - 1);
        foreach (var old in versions)
        {
            try
            {
                old.Delete(recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A reader may still have it open; it goes at the next promotion.
            }
        }
    }
}

/// <summary>The outcome of <see cref="ModelStore.LoadLatestValid"/>: the bundle served (or null), what CURRENT names, and the versions passed over.</summary>
public sealed record ModelLoadResult(ModelBundle? Bundle, string? PointedVersion, IReadOnlyList<SkippedVersion> Skipped)
{
    /// <summary>True when an older version is served because the one CURRENT names could not be.</summary>
    public bool IsFallback => Bundle is not null && Skipped.Count > 0;
}

/// <summary>A version that was not loaded, and why.</summary>
public sealed record SkippedVersion(string Version, string Reason);
