using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.ModelSelection;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// Chooses the model by cross-validated grid search over the learner family (Training:Mode = search).
/// The test rows are never seen here: the pipeline only uses them afterwards, for the report.
/// </summary>
public sealed class GridSearchTrainer(string gridPath, int folds, string scoring, int seed) : IModelTrainer
{
    public TrainedModel Train(FeatureMatrix features, int[] labels, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var candidates = GridFile.Load(gridPath);
        GridSearchResult result;
        try
        {
            result = new GridSearch(LearnerCatalog.Default(seed), folds, scoring, seed).Run(features, labels, groups, candidates, progress, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            throw new PipelineException($"Grid file '{gridPath}': {ex.Message}", ex);
        }

        var leaderboard = result.Leaderboard
            .Select((e, i) => new LeaderboardEntry(i + 1, e.Candidate == e.Learner ? e.Learner : $"{e.Learner} ({e.Candidate})", e.ParameterText, e.Mean, e.Std, e.FitSeconds))
            .ToArray();
        return new TrainedModel(result.Model, result.Best.Learner, result.Best.Parameters, scoring, result.Best.Mean, result.Best.Std, leaderboard);
    }
}
