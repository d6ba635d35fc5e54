namespace NetworkSecurity.Pipeline.Training;

/// <summary>What a promoted model is, how it was trained and how well it did. Shown by GET /model and the home page.</summary>
public sealed record ModelCard(
    string Version,
    DateTimeOffset TrainedAt,
    string Learner,
    IReadOnlyDictionary<string, string> Parameters,
    string CvScoring,
    double CvScore,
    double CvScoreStd,
    ClassificationViews Train,
    ClassificationViews Test,
    IReadOnlyList<RocPoint> TestRocCurve,
    string SchemaFingerprint,
    string DataSha256,
    int TrainRows,
    int TestRows,
    string Split,
    int Seed,
    string DecisionRule = NetworkSecurity.Learning.Metrics.DecisionRule.Description,
    string Holdout = "test split");

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
