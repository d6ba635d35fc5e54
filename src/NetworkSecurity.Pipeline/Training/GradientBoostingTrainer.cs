using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.ModelSelection;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// Trains one gradient-boosted model with fixed hyperparameters (Training:Mode = gbdt): the fast path, no search.
/// With <paramref name="crossValidationFolds"/> &gt; 0 (no hold-out) it also cross-validates that one configuration, so the
/// quality gate has an estimate, then fits it on every row.
/// </summary>
public sealed class GradientBoostingTrainer(int seed, int crossValidationFolds = 0) : IModelTrainer
{
    public int CrossValidationFolds => crossValidationFolds >= 2 ? crossValidationFolds : 0;

    private static readonly Dictionary<string, string> Parameters = new()
    {
        ["n_estimators"] = "300",
        ["learning_rate"] = "0.1",
        ["max_depth"] = "6",
        ["subsample"] = "1",
        ["l2"] = "1",
    };

    public TrainedModel Train(FeatureMatrix features, int[] labels, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var parameters = string.Join(", ", Parameters.Select(p => $"{p.Key}={p.Value}"));
        if (crossValidationFolds >= 2)
        {
            GridSearchTrainer.EnoughForFolds(labels, groups, crossValidationFolds); // said in terms of the data, not "k"
            var candidate = new GridCandidate("gradient_boosting", "gradient_boosting", Parameters.Select(p => new KeyValuePair<string, IReadOnlyList<string>>(p.Key, [p.Value])).ToArray());
            var result = new GridSearch(LearnerCatalog.Default(seed), crossValidationFolds, "f1", seed).Run(features, labels, groups, [candidate], progress, cancellationToken);
            return new TrainedModel(result.Model, "gradient_boosting", Parameters, "f1", result.Best.Mean, result.Best.Std,
                [new LeaderboardEntry(1, "gradient_boosting", parameters, result.Best.Mean, result.Best.Std, result.Best.FitSeconds, CvFolds: result.Best.Folds, CvF1: result.Best.F1)],
                CvF1: result.Best.F1);
        }

        var learner = new GradientBoostingLearner(nEstimators: 300, learningRate: 0.1, maxDepth: 6, l2: 1.0, seed: seed);
        var model = learner.Learn(features, labels, cancellationToken); // stops between trees
        progress?.Report(1.0);
        return new TrainedModel(model, "gradient_boosting", Parameters, "none", double.NaN, double.NaN,
            [new LeaderboardEntry(1, "gradient_boosting", parameters, double.NaN, double.NaN, clock.Elapsed.TotalSeconds)]);
    }
}
