using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>Chooses and fits a classifier on the training rows. Never sees the test rows.</summary>
public interface IModelTrainer
{
    TrainedModel Train(FeatureMatrix features, int[] labels, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken);

    /// <summary>The folds it cross-validates on, 0 for none: the pipeline checks the training rows can fill them before any work.</summary>
    int CrossValidationFolds => 0;
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
    double CvF1 = double.NaN, // the winner's CV F1 (legitimate), whatever ranked the search: the no-hold-out gate's measure
    string? GridEntry = null); // the grid file's entry the winner came from (gradient_boosting_leafwise); null without a search

/// <summary>A ranked configuration; <paramref name="Engine"/> is "ours" or "ML.NET".</summary>
public sealed record LeaderboardEntry(int Rank, string Learner, string Parameters, double CvMean, double CvStd, double FitSeconds, string Engine = "ours", int? CvFolds = null, double CvF1 = double.NaN);

/// <summary>A configuration the search could not fit (left out of the leaderboard), with the reason.</summary>
public sealed record LearnerFailure(string Learner, string Engine, string Parameters, string Error);
