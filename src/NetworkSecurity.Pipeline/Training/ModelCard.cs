using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>What a promoted model is, how it was trained and how well it did. Shown by GET /model and the home page.</summary>
public sealed record ModelCard(
    string Version,
    DateTimeOffset TrainedAt,
    string Learner,
    IReadOnlyDictionary<string, string> Parameters,
    string CvScoring,
    double? CvScore,
    double? CvScoreStd,
    ClassificationViews Train,
    ClassificationViews? Test, // null when trained on every row (no test rows, so no test metrics rather than NaN ones)
    IReadOnlyList<RocPoint> TestRocCurve,
    string SchemaFingerprint,
    string DataSha256,
    int TrainRows,
    int TestRows,
    string Split,
    int Seed,
    GlobalImportance? Importance = null,
    string DecisionRule = NetworkSecurity.Learning.Metrics.DecisionRule.Description,
    string Holdout = "test split",
    double? CvF1 = null,
    string? GridEntry = null, // the entry of the grid file the model came from, e.g. gradient_boosting_leafwise
    IReadOnlyList<TargetClass>? Classes = null) // as learned: phishing (label 0), then legitimate; null in cards of earlier builds
{
    /// <summary>The chosen configuration's cross-validated F1 (legitimate), whatever score ranked the search.</summary>
    public double? CvF1 { get; init; } = CvF1 is { } f1 && double.IsFinite(f1) ? f1 : null;

    // No cross-validation ran (--mode gbdt): null, never NaN, in model_card.json and GET /model.
    public double? CvScore { get; init; } = CvScore is { } score && double.IsFinite(score) ? score : null;

    public double? CvScoreStd { get; init; } = CvScoreStd is { } std && double.IsFinite(std) ? std : null;
}

/// <summary>
/// Global feature importance: the mean absolute contribution (TreeSHAP or linear) of each feature over the test
/// rows, on the model's output scale, largest first. When the model cannot explain, <paramref name="Features"/> is
/// empty and <paramref name="UnavailableReason"/> says why.
/// </summary>
public sealed record GlobalImportance(string Scale, int Rows, IReadOnlyList<FeatureImportance> Features, string? UnavailableReason = null);

public sealed record FeatureImportance(string Feature, double MeanAbsContribution);

/// <summary>Metrics with each class as the positive one: legitimate (as the seed reports) and phishing (the security view).</summary>
public sealed record ClassificationViews(ClassificationReport Legitimate, ClassificationReport Phishing);

public sealed record ClassificationReport(
    double F1,
    double Precision,
    double Recall,
    double Accuracy,
    double RocAuc,
    int TruePositives,
    int FalsePositives,
    int TrueNegatives,
    int FalseNegatives);

public sealed record RocPoint(double FalsePositiveRate, double TruePositiveRate, double Threshold);
