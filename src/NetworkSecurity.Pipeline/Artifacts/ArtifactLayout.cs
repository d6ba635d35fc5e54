using System.Globalization;

namespace NetworkSecurity.Pipeline.Artifacts;

/// <summary>The folders of one run: Artifacts/&lt;yyyyMMdd_HHmmss&gt;/{data_ingestion, ...}.</summary>
public sealed record ArtifactLayout(string Root, string Timestamp)
{
    public string Ingestion => Path.Combine(Root, "data_ingestion");

    public string FeatureStore => Path.Combine(Ingestion, "feature_store");

    public string Validation => Path.Combine(Root, "data_validation");

    public string Invalid => Path.Combine(Validation, "invalid");

    public string DriftReport => Path.Combine(Validation, "drift_report");

    public string Transformation => Path.Combine(Root, "data_transformation");

    public string Trainer => Path.Combine(Root, "model_trainer");

    public string Evaluation => Path.Combine(Root, "model_evaluation");

    /// <summary>Creates a new run folder named after <paramref name="now"/>; adds a suffix if two runs start in the same second.</summary>
    public static ArtifactLayout Create(string artifactsRoot, DateTimeOffset now)
    {
        var stamp = now.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        var timestamp = stamp;
        for (var i = 1; Directory.Exists(Path.Combine(artifactsRoot, timestamp)); i++)
        {
            timestamp = $"{stamp}_{i}";
        }

        var layout = new ArtifactLayout(Path.Combine(artifactsRoot, timestamp), timestamp);
        Directory.CreateDirectory(layout.Root);
        return layout;
    }
}
