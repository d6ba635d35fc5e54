using System.Text.Json;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// The live model folder. Each promoted model gets its own sub-folder (final_model/&lt;version&gt;/ with model.nsm and
/// model_card.json), filled under a temporary name and renamed into place; the file CURRENT, replaced atomically,
/// names the live one. Readers therefore always see a complete model, old or new.
/// </summary>
public sealed class ModelStore(string directory)
{
    public const string BundleFileName = "model.nsm";
    public const string CardFileName = "model_card.json";
    private const string PointerFileName = "CURRENT";
    private const int VersionsKept = 3;

    public string Directory { get; } = directory;

    /// <summary>The version CURRENT points at, or null when no model was promoted yet.</summary>
    public string? CurrentVersion
    {
        get
        {
            var pointer = Path.Combine(Directory, PointerFileName);
            if (!File.Exists(pointer))
            {
                return null;
            }

            var version = File.ReadAllText(pointer).Trim();
            return version.Length > 0 && System.IO.Directory.Exists(Path.Combine(Directory, version)) ? version : null;
        }
    }

    /// <summary>Folder of the live model, or null.</summary>
    public string? CurrentModelDirectory => CurrentVersion is { } v ? Path.Combine(Directory, v) : null;

    public void Promote(ModelBundle bundle)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var staging = Path.Combine(Directory, $".staging-{bundle.Version}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(staging);
        try
        {
            bundle.Save(Path.Combine(staging, BundleFileName));
            SafeFile.WriteAllText(Path.Combine(staging, CardFileName), JsonSerializer.Serialize(bundle.Card, ReportWriter.JsonOptions));
            var target = Path.Combine(Directory, bundle.Version);
            if (System.IO.Directory.Exists(target))
            {
                System.IO.Directory.Delete(target, recursive: true);
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

        SafeFile.WriteAllText(Path.Combine(Directory, PointerFileName), bundle.Version);
        PruneOldVersions(bundle.Version);
    }

    /// <summary>
    /// Makes a complete model folder (e.g. downloaded from object storage) the live version: moved into place under
    /// its version name, then CURRENT is replaced atomically.
    /// </summary>
    public void Adopt(string folder, string version)
    {
        if (!File.Exists(Path.Combine(folder, BundleFileName)))
        {
            throw new PipelineException($"'{folder}' has no {BundleFileName}: not a model folder.");
        }

        var target = Path.Combine(Directory, version);
        if (System.IO.Directory.Exists(target))
        {
            System.IO.Directory.Delete(target, recursive: true);
        }

        System.IO.Directory.Move(folder, target);
        SafeFile.WriteAllText(Path.Combine(Directory, PointerFileName), version);
        PruneOldVersions(version);
    }

    public ModelBundle? LoadCurrent(DataSchema? expectedSchema) =>
        CurrentModelDirectory is { } folder ? ModelBundle.Load(Path.Combine(folder, BundleFileName), expectedSchema) : null;

    private void PruneOldVersions(string current)
    {
        var versions = new DirectoryInfo(Directory).GetDirectories()
            .Where(d => !d.Name.StartsWith('.') && File.Exists(Path.Combine(d.FullName, BundleFileName)) && d.Name != current)
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .Skip(VersionsKept - 1);
        foreach (var old in versions)
        {
            try
            {
                old.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A reader may still have it open; it goes at the next promotion.
            }
        }
    }
}
