using System.Globalization;

namespace NetworkSecurity.Pipeline.Artifacts;

/// <summary>The folders of one run: Artifacts/&lt;yyyyMMdd_HHmmss&gt;/{data_ingestion, ...}.</summary>
public sealed partial record ArtifactLayout(string Root, string Timestamp)
{
    public string Ingestion => Path.Combine(Root, "data_ingestion");

    public string FeatureStore => Path.Combine(Ingestion, "feature_store");

    public string Validation => Path.Combine(Root, "data_validation");

    public string Invalid => Path.Combine(Validation, "invalid");

    public string DriftReport => Path.Combine(Validation, "drift_report");

    public string Transformation => Path.Combine(Root, "data_transformation");

    public string Trainer => Path.Combine(Root, "model_trainer");

    public string Evaluation => Path.Combine(Root, "model_evaluation");

    /// <summary>
    /// Creates a new run folder named after <paramref name="now"/>; adds a suffix if the name is taken: by another run's
    /// folder here (claimed with a marker file created exclusively, so two processes starting in the same second never
    /// share one), or by <paramref name="taken"/> (e.g. a promoted model of that version).
    /// </summary>
    public static ArtifactLayout Create(string artifactsRoot, DateTimeOffset now, Func<string, bool>? taken = null)
    {
        if (File.Exists(artifactsRoot))
        {
            throw new PipelineException($"The artifacts folder '{artifactsRoot}' is a file.");
        }

        var stamp = now.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        for (var i = 0; ; i++)
        {
            var timestamp = i == 0 ? stamp : $"{stamp}_{i}";
            var root = Path.Combine(artifactsRoot, timestamp);
            if (Directory.Exists(root) || taken?.Invoke(timestamp) == true)
            {
                continue;
            }

            Directory.CreateDirectory(root);
            try
            {
                new FileStream(Path.Combine(root, ClaimFileName), FileMode.CreateNew, FileAccess.Write).Dispose();
            }
            catch (IOException) when (File.Exists(Path.Combine(root, ClaimFileName)))
            {
                continue; // another process created the same folder a moment ago and claimed it first
            }

            return new ArtifactLayout(root, timestamp);
        }
    }

    /// <summary>
    /// Removes run folders (<c>yyyyMMdd_HHmmss</c>, with a suffix or not) beyond the newest <paramref name="keep"/>
    /// (0 keeps all): a service retrained on demand otherwise filled its disk at about 5 MB a run. A run still in
    /// progress (its claim marker present, as in another process) is left alone, and so are other files and folders in
    /// <paramref name="artifactsRoot"/>. Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> PruneOldRuns(string artifactsRoot, int keep)
    {
        if (keep <= 0 || !Directory.Exists(artifactsRoot))
        {
            return [];
        }

        var removed = new List<string>();
        var old = new DirectoryInfo(artifactsRoot).GetDirectories()
            .Where(d => RunFolderName().IsMatch(d.Name))
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .Skip(keep)
            .Where(d => !InProgress(d));
        foreach (var folder in old)
        {
            try
            {
                folder.Delete(recursive: true);
                removed.Add(folder.Name);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Open elsewhere or not ours: tried again after the next run.
            }
        }

        return removed;
    }

    // A run still holds its claim until it publishes (another process's run, started earlier): never pulled away
    // from under it. A claim a killed run left for a day no longer counts.
    private static bool InProgress(DirectoryInfo run)
    {
        var claim = new FileInfo(Path.Combine(run.FullName, ClaimFileName));
        return claim.Exists && DateTime.UtcNow - claim.LastWriteTimeUtc < TimeSpan.FromDays(1);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{8}_\d{6}(_\d+)?$")]
    private static partial System.Text.RegularExpressions.Regex RunFolderName();

    /// <summary>Marks a run folder as one run's own while it starts (see <see cref="Create"/>).</summary>
    public const string ClaimFileName = ".run";

    /// <summary>
    /// Removes the claim marker before the run's files are published (it is not an artifact). By then the folder has
    /// long existed, which is what keeps later runs out of it; the marker only settles a tie at creation.
    /// </summary>
    public void ReleaseClaim()
    {
        try
        {
            File.Delete(Path.Combine(Root, ClaimFileName));
        }
        catch (IOException)
        {
            // Best effort: a marker left behind is an empty file, nothing more.
        }
    }
}
