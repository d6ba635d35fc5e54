using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// Random forest: each tree sees a bootstrap sample (as row weights) and a random subset of features at each split;
/// trees are trained in parallel, each with its own generator seeded from (seed, tree index), so the forest is the
/// same whatever the number of threads.
/// </summary>
public sealed class RandomForestLearner : ILearner, IBinnedLearner
{
    public RandomForestLearner(int nEstimators = 100, string maxFeatures = "sqrt", int maxDepth = 0, int minSamplesLeaf = 1,
        string criterion = "gini", bool bootstrap = true, int seed = 42, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nEstimators, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(maxFeatures);
        _ = ClassificationTreeBuilder.ResolveMaxFeatures(maxFeatures, int.MaxValue); // the text now; a count against the columns when fitting
        ArgumentOutOfRangeException.ThrowIfNegative(maxDepth);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamplesLeaf, 1);
        if (criterion is not ("gini" or "entropy" or "log_loss"))
        {
            throw new ArgumentOutOfRangeException(nameof(criterion), criterion, "criterion must be gini, entropy or log_loss.");
        }

        NEstimators = nEstimators;
        MaxFeatures = maxFeatures;
        MaxDepth = maxDepth;
        MinSamplesLeaf = minSamplesLeaf;
        Criterion = criterion;
        Bootstrap = bootstrap;
        Seed = seed;
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
    }

    public int NEstimators { get; }

    public string MaxFeatures { get; }

    public int MaxDepth { get; }

    public int MinSamplesLeaf { get; }

    public string Criterion { get; }

    public bool Bootstrap { get; }

    public int Seed { get; }

    public int MaxDegreeOfParallelism { get; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels);
        return Learn(BinnedDataset.Create(features), labels, Enumerable.Range(0, features.Rows).ToArray());
    }

    public IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, CancellationToken cancellationToken = default)
    {
        TrainingInput.Check(data, labels, rows);
        var y = labels.ToArray();
        var sample = rows.ToArray();
        var maxFeatures = ClassificationTreeBuilder.ResolveMaxFeatures(MaxFeatures, data.Columns);
        var limits = new TreeLimits(MaxDepth == 0 ? int.MaxValue : MaxDepth, int.MaxValue, MinSamplesLeaf, 2, maxFeatures);
        var trees = new FlatTree[NEstimators];
        Parallel.For(0, NEstimators, new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism, CancellationToken = cancellationToken }, t =>
        {
            // HashCode is randomised per process, so derive the tree seed arithmetically.
            var random = new Random(unchecked((Seed * 1_000_003) + (t * 7_919) + 17));
            var weights = new double[data.Rows];
            if (Bootstrap)
            {
                for (var i = 0; i < sample.Length; i++)
                {
                    weights[sample[random.Next(sample.Length)]] += 1;
                }
            }
            else
            {
                foreach (var row in sample)
                {
                    weights[row] = 1;
                }
            }

            var grown = ClassificationTreeBuilder.Grow(data, y, sample, weights, Criterion != "gini", limits, random);
            trees[t] = new FlatTree(grown.Nodes, grown.Cover);
        });
        return new RandomForestModel(data.Columns, trees);
    }
}
