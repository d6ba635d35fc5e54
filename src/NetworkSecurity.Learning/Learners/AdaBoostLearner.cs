using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// AdaBoost with SAMME on shallow classification trees (stumps by default), as scikit-learn's
/// AdaBoostClassifier(algorithm="SAMME") for two classes: α = learning_rate·ln((1−err)/err); misclassified rows'
/// weights are multiplied by e^α. Stops early when a tree is perfect or no better than chance.
/// </summary>
public sealed class AdaBoostLearner : ILearner, IBinnedLearner
{
    public AdaBoostLearner(int nEstimators = 50, double learningRate = 1.0, int maxDepth = 1, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nEstimators, 1);
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
        {
            // An infinite rate makes the first estimator's weight infinite and the row weights NaN: meaningless votes.
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning_rate must be > 0 and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        NEstimators = nEstimators;
        LearningRate = learningRate;
        MaxDepth = maxDepth;
        Seed = seed;
    }

    public int NEstimators { get; }

    public double LearningRate { get; }

    public int MaxDepth { get; }

    public int Seed { get; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels);
        return Learn(BinnedDataset.Create(features), labels, Enumerable.Range(0, features.Rows).ToArray());
    }

    public IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, CancellationToken cancellationToken = default)
    {
        TrainingInput.Check(data, labels, rows);
        var sample = rows.ToArray();
        var weights = new double[data.Rows];
        foreach (var row in sample)
        {
            weights[row] = 1.0 / sample.Length;
        }

        var limits = new TreeLimits(MaxDepth, int.MaxValue, 1, 2, data.Columns);
        var trees = new List<FlatTree>();
        var alphas = new List<double>();
        for (var m = 0; m < NEstimators; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tree = ClassificationTreeBuilder.Grow(data, labels, sample, weights, entropy: false, limits, featureSampler: null);
            double error = 0, total = 0;
            var wrong = new bool[sample.Length];
            for (var i = 0; i < sample.Length; i++)
            {
                var row = sample[i];
                var predicted = tree.PredictDistinct(data, data.RowToDistinct[row]) > 0.5 ? 1 : 0;
                wrong[i] = predicted != labels[row];
                total += weights[row];
                error += wrong[i] ? weights[row] : 0;
            }

            error /= total;
            if (error <= 0)
            {
                // A perfect tree: scikit-learn keeps it with weight 1 and stops.
                trees.Add(new FlatTree(tree.Nodes, tree.Cover));
                alphas.Add(1.0);
                break;
            }

            if (error >= 0.5)
            {
                // No better than chance: stop (scikit-learn drops this tree).
                if (trees.Count == 0)
                {
                    throw new InvalidOperationException("AdaBoost's first tree is no better than chance; the data cannot be boosted.");
                }

                break;
            }

            var alpha = LearningRate * Math.Log((1 - error) / error);
            trees.Add(new FlatTree(tree.Nodes, tree.Cover));
            alphas.Add(alpha);
            double sum = 0;
            for (var i = 0; i < sample.Length; i++)
            {
                var row = sample[i];
                if (wrong[i])
                {
                    weights[row] *= Math.Exp(alpha);
                }

                sum += weights[row];
            }

            foreach (var row in sample)
            {
                weights[row] /= sum;
            }
        }

        return new AdaBoostModel(data.Columns, trees, alphas);
    }
}
