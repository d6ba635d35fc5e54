using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>Chooses and fits a classifier on the training rows. Never sees the test rows.</summary>
public interface IModelTrainer
{
    TrainedModel Train(FeatureMatrix features, int[] labels, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken);
}

public sealed record TrainedModel(
    IClassifierModel Model,
    string Learner,
    IReadOnlyDictionary<string, string> Parameters,
    string Scoring,
    double CvScore,
    double CvScoreStd,
    IReadOnlyList<LeaderboardEntry> Leaderboard,
    IReadOnlyList<LearnerFailure>? Failures = null,
    double CvF1 = double.NaN)
{
    /// <summary>The winner's cross-validated F1 (legitimate), which the quality gate uses without a hold-out, whatever
    /// score ranked the search.</summary>
    public double CvF1 { get; init; } = double.IsNaN(CvF1) && Scoring == "f1" ? CvScore : CvF1;
}

/// <summary>A ranked configuration; <paramref name="Engine"/> is "ours" or "ML.NET".</summary>
public sealed record LeaderboardEntry(int Rank, string Learner, string Parameters, double CvMean, double CvStd, double FitSeconds, string Engine = "ours", int? CvFolds = null, double CvF1 = double.NaN);

/// <summary>A configuration the search could not fit (left out of the leaderboard), with the reason.</summary>
public sealed record LearnerFailure(string Learner, string Engine, string Parameters, string Error);
