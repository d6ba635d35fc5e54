using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>Trains one gradient-boosted model with fixed hyperparameters (Training:Mode = gbdt): the fast path, no search.</summary>
public sealed class GradientBoostingTrainer : IModelTrainer
{
    private readonly Dictionary<string, string> _parameters;
    private readonly int _seed;

    public GradientBoostingTrainer(int seed)
    {
        _seed = seed;
        _parameters = new Dictionary<string, string>
        {
            ["n_estimators"] = "300",
            ["learning_rate"] = "0.1",
            ["max_depth"] = "6",
            ["subsample"] = "1",
        };
    }

    public TrainedModel Train(FeatureMatrix features, int[] labels, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var learner = new GradientBoostingLearner(nEstimators: 300, learningRate: 0.1, maxDepth: 6, seed: _seed);
        var model = learner.Learn(features, labels);
        progress?.Report(1.0);
        var parameters = string.Join(", ", _parameters.Select(p => $"{p.Key}={p.Value}"));
        return new TrainedModel(model, "gradient_boosting", _parameters, "none", double.NaN, double.NaN,
            [new LeaderboardEntry(1, "gradient_boosting", parameters, double.NaN, double.NaN, clock.Elapsed.TotalSeconds)]);
    }
}
