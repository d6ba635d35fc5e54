using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// CART classification tree: Gini or entropy impurity, max depth, minimum samples per split and per leaf, and a
/// seeded random subset of features per split (max_features). Splits are found on binned features (exact when a
/// feature has at most 255 distinct values).
/// </summary>
public sealed class DecisionTreeLearner : ILearner, IBinnedLearner
{
    public DecisionTreeLearner(string criterion = "gini", int maxDepth = 0, int minSamplesSplit = 2, int minSamplesLeaf = 1, string maxFeatures = "all", int seed = 42)
    {
        if (criterion is not ("gini" or "entropy" or "log_loss"))
        {
            throw new ArgumentOutOfRangeException(nameof(criterion), criterion, "criterion must be gini, entropy or log_loss.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(maxDepth);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamplesSplit, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamplesLeaf, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(maxFeatures);
        _ = ClassificationTreeBuilder.ResolveMaxFeatures(maxFeatures, int.MaxValue); // the text now; a count against the columns when fitting
        Criterion = criterion;
        MaxDepth = maxDepth;
        MinSamplesSplit = minSamplesSplit;
        MinSamplesLeaf = minSamplesLeaf;
        MaxFeatures = maxFeatures;
        Seed = seed;
    }

    public string Criterion { get; }

    /// <summary>0 = grow until leaves are pure or too small.</summary>
    public int MaxDepth { get; }

    public int MinSamplesSplit { get; }

    public int MinSamplesLeaf { get; }

    public string MaxFeatures { get; }

    public int Seed { get; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels);
        return Learn(BinnedDataset.Create(features), labels, Enumerable.Range(0, features.Rows).ToArray());
    }

    public IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, CancellationToken cancellationToken = default)
    {
        TrainingInput.Check(data, labels, rows);
        var weights = new double[data.Rows];
        foreach (var row in rows)
        {
            weights[row] = 1;
        }

        var maxFeatures = ClassificationTreeBuilder.ResolveMaxFeatures(MaxFeatures, data.Columns);
        var tree = ClassificationTreeBuilder.Grow(data, labels, rows, weights, Criterion != "gini", Limits(maxFeatures),
            maxFeatures < data.Columns ? new Random(Seed) : null);
        return new DecisionTreeModel(data.Columns, new FlatTree(tree.Nodes, tree.Cover));
    }

    internal TreeLimits Limits(int maxFeatures) =>
        new(MaxDepth == 0 ? int.MaxValue : MaxDepth, int.MaxValue, MinSamplesLeaf, MinSamplesSplit, maxFeatures);
}
