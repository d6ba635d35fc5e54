using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// Gradient-boosted decision trees for binary log-loss, of the LightGBM/FastTree kind: features binned once,
/// histogram split finding with second-order gain, shrinkage, row subsampling, depth-wise (max_depth) or leaf-wise
/// (max_leaves) trees, L2 on leaf values, feature subsampling per split (colsample_bynode), and optional early
/// stopping on a stratified validation fold.
/// Deterministic for a seed whatever the number of threads.
/// </summary>
public sealed class GradientBoostingLearner : ILearner, IBinnedLearner
{
    public GradientBoostingLearner(
        int nEstimators = 100,
        double learningRate = 0.1,
        int maxDepth = 6,
        int maxLeaves = 0,
        int minSamplesLeaf = 1,
        double minChildWeight = 1e-3,
        double l2 = 1.0,
        double subsample = 1.0,
        double validationFraction = 0.0,
        int nIterNoChange = 0,
        int seed = 42,
        double colsampleByNode = 1.0,
        double colsampleByTree = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nEstimators, 1);
        if (!(learningRate > 0 && learningRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning_rate must be in (0, 1].");
        }

        if (maxDepth < 1 && maxLeaves < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDepth), maxDepth, "max_depth must be ≥ 1, or max_leaves ≥ 2 when max_depth is 0 (unlimited).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(maxLeaves);
        if (maxLeaves == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLeaves), maxLeaves, "max_leaves must be 0 (no limit) or ≥ 2.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(minSamplesLeaf, 1);
        if (!(minChildWeight >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minChildWeight), minChildWeight, "min_child_weight must be ≥ 0.");
        }

        if (!(l2 >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(l2), l2, "l2 must be ≥ 0.");
        }

        if (!(subsample > 0 && subsample <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(subsample), subsample, "subsample must be in (0, 1].");
        }

        if (!(validationFraction >= 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "validation_fraction must be in [0, 1).");
        }

        if (!(colsampleByNode > 0 && colsampleByNode <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(colsampleByNode), colsampleByNode, "colsample_bynode must be in (0, 1].");
        }

        if (!(colsampleByTree > 0 && colsampleByTree <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(colsampleByTree), colsampleByTree, "colsample_bytree must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(nIterNoChange);
        ColsampleByTree = colsampleByTree;
        ColsampleByNode = colsampleByNode;
        NEstimators = nEstimators;
        LearningRate = learningRate;
        MaxDepth = maxDepth < 1 ? int.MaxValue : maxDepth;
        MaxLeaves = maxLeaves;
        MinSamplesLeaf = minSamplesLeaf;
        MinChildWeight = minChildWeight;
        L2 = l2;
        Subsample = subsample;
        ValidationFraction = validationFraction;
        NIterNoChange = nIterNoChange;
        Seed = seed;
    }

    public int NEstimators { get; }

    public double LearningRate { get; }

    public int MaxDepth { get; }

    public int MaxLeaves { get; }

    public int MinSamplesLeaf { get; }

    public double MinChildWeight { get; }

    public double L2 { get; }

    public double Subsample { get; }

    public double ValidationFraction { get; }

    public int NIterNoChange { get; }

    public int Seed { get; }

    /// <summary>Share of the features each split may choose from (drawn afresh per split); 1 uses all.</summary>
    public double ColsampleByNode { get; }

    /// <summary>
    /// Share of the features each tree may use (drawn afresh per tree, as XGBoost's colsample_bytree); per-split
    /// sampling then draws its share from these. 1 uses all.
    /// </summary>
    public double ColsampleByTree { get; }

    /// <summary>Trees kept by the last fit with early stopping (NEstimators without it).</summary>
    public int BestIteration { get; private set; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels) => Learn(features, labels, CancellationToken.None);

    /// <summary>As <see cref="Learn(FeatureMatrix, ReadOnlySpan{int})"/>, stopping between trees when cancelled.</summary>
    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels, CancellationToken cancellationToken)
    {
        TrainingInput.Check(features, labels);
        var rows = new int[features.Rows];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }

        return Learn(BinnedDataset.Create(features), labels, rows, cancellationToken);
    }

    public IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, CancellationToken cancellationToken = default)
    {
        TrainingInput.Check(data, labels, rows);

        var train = rows.ToArray();
        int[] validation = [];
        if (ValidationFraction > 0 && NIterNoChange > 0)
        {
            var subsetLabels = new int[train.Length];
            for (var i = 0; i < train.Length; i++)
            {
                subsetLabels[i] = labels[train[i]];
            }

            var split = TrainTestSplit.Stratified(subsetLabels, ValidationFraction, Seed);
            validation = split.Test.Select(i => train[i]).ToArray();
            train = split.Train.Select(i => train[i]).ToArray();
            if (train.Length == 0)
            {
                // Each class's share rounds up to all of its rows when it has very few: the prior was 0/0 and every
                // probability of the model NaN.
                throw new ArgumentException(
                    $"validation_fraction {ValidationFraction} takes all {validation.Length} training rows for early stopping, leaving none to fit; use more rows or a smaller fraction.",
                    nameof(rows));
            }
        }

        var y = labels.ToArray();
        double positives = 0;
        foreach (var r in train)
        {
            positives += y[r];
        }

        // Start from the prior log-odds so the first trees fit the residual, not the class balance.
        var prior = Math.Clamp(positives / train.Length, 1e-6, 1 - 1e-6);
        var baseScore = Math.Log(prior / (1 - prior));

        // Copies of a feature vector always share a score, so scores, gradients and hessians live per distinct row.
        var distinctOf = data.RowToDistinct;
        var scores = new double[data.DistinctRows];
        Array.Fill(scores, baseScore);
        var gradients = new double[data.DistinctRows];
        var hessians = new double[data.DistinctRows];
        var counts = new int[data.DistinctRows];
        var positivesOf = new int[data.DistinctRows];
        var items = new int[data.DistinctRows];
        var trainDistinct = DistinctOf(train, distinctOf, data.DistinctRows);
        var validationDistinct = DistinctOf(validation, distinctOf, data.DistinctRows);
        var sampled = new int[train.Length];
        var random = new SplitMix64(unchecked((ulong)Seed * 0x2545F4914F6CDD1DUL + 1));
        var leaves = MaxLeaves > 0 ? MaxLeaves : (MaxDepth >= 30 ? int.MaxValue : 1 << MaxDepth);
        var treeFeatureCount = Math.Clamp((int)Math.Round(data.Columns * ColsampleByTree), 1, data.Columns);
        var splitFeatures = Math.Clamp((int)Math.Round(treeFeatureCount * ColsampleByNode), 1, treeFeatureCount);
        var featureRandom = splitFeatures < treeFeatureCount ? new Random(Seed) : null;

        // Its own stream, so per-split draws (and models fitted without tree sampling) do not depend on it.
        var treeRandom = treeFeatureCount < data.Columns ? new Random(unchecked(Seed * 31 + 7)) : null;
        var allFeatures = Enumerable.Range(0, data.Columns).ToArray();
        var treeFeatures = treeRandom is null ? null : new int[treeFeatureCount];
        var grower = new TreeGrower(data, new GradientCriterion(L2, MinChildWeight, LearningRate),
            new TreeLimits(MaxDepth, leaves, MinSamplesLeaf, 2, splitFeatures));
        var trees = new List<FlatTree>(NEstimators);
        var bestLoss = double.PositiveInfinity;
        var bestCount = 0;

        for (var t = 0; t < NEstimators; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Sample(train, sampled, ref random);
            if (t == 0 || Subsample < 1)
            {
                foreach (var d in trainDistinct)
                {
                    counts[d] = 0;
                    positivesOf[d] = 0;
                }

                for (var i = 0; i < count; i++)
                {
                    var r = sampled[i];
                    counts[distinctOf[r]]++;
                    positivesOf[distinctOf[r]] += y[r];
                }
            }

            // Log-loss gradient and hessian summed over the sampled copies of each distinct row.
            var itemCount = 0;
            foreach (var d in trainDistinct)
            {
                var n = counts[d];
                if (n > 0)
                {
                    var p = GradientBoostingModel.Sigmoid(scores[d]);
                    gradients[d] = (n * p) - positivesOf[d];
                    hessians[d] = n * Math.Max(p * (1 - p), 1e-16);
                    items[itemCount++] = d;
                }
            }

            if (treeRandom is not null)
            {
                DrawFeatures(allFeatures, treeFeatures!, treeRandom);
            }

            var tree = grower.Grow(items, itemCount, gradients, hessians, MinSamplesLeaf > 1 ? counts : null, featureRandom, treeFeatures);
            trees.Add(new FlatTree(tree.Nodes, tree.Cover));
            foreach (var d in trainDistinct)
            {
                scores[d] += tree.PredictDistinct(data, d);
            }

            if (validation.Length > 0)
            {
                foreach (var d in validationDistinct)
                {
                    if (Array.BinarySearch(trainDistinct, d) < 0)
                    {
                        scores[d] += tree.PredictDistinct(data, d);
                    }
                }

                double loss = 0;
                foreach (var r in validation)
                {
                    var p = Math.Clamp(GradientBoostingModel.Sigmoid(scores[distinctOf[r]]), 1e-15, 1 - 1e-15);
                    loss -= y[r] == 1 ? Math.Log(p) : Math.Log(1 - p);
                }

                if (loss < bestLoss - 1e-12)
                {
                    bestLoss = loss;
                    bestCount = trees.Count;
                }
                else if (trees.Count - bestCount >= NIterNoChange)
                {
                    break;
                }
            }
        }

        if (validation.Length > 0)
        {
            trees.RemoveRange(bestCount, trees.Count - bestCount);
        }

        BestIteration = trees.Count;
        return new GradientBoostingModel(data.Columns, baseScore, trees);
    }

    /// <summary>Fills <paramref name="chosen"/> with a seeded random subset of the features, in ascending order.</summary>
    private static void DrawFeatures(int[] features, int[] chosen, Random random)
    {
        // Partial Fisher-Yates over the whole list; sorted so split ties still go to the lowest feature.
        for (var i = 0; i < chosen.Length; i++)
        {
            var j = i + random.Next(features.Length - i);
            (features[i], features[j]) = (features[j], features[i]);
        }

        features.AsSpan(0, chosen.Length).CopyTo(chosen);
        Array.Sort(chosen);
    }

    /// <summary>The sorted distinct rows behind <paramref name="rows"/>.</summary>
    private static int[] DistinctOf(int[] rows, int[] distinctOf, int distinctRows)
    {
        var seen = new bool[distinctRows];
        foreach (var r in rows)
        {
            seen[distinctOf[r]] = true;
        }

        var result = new List<int>();
        for (var d = 0; d < seen.Length; d++)
        {
            if (seen[d])
            {
                result.Add(d);
            }
        }

        return [.. result];
    }

    /// <summary>Copies a seeded random subset (without replacement) of the training rows, in row order.</summary>
    private int Sample(int[] train, int[] destination, ref SplitMix64 random)
    {
        if (Subsample >= 1)
        {
            train.CopyTo(destination, 0);
            return train.Length;
        }

        // Selection sampling (Knuth's algorithm S): exactly `count` rows, kept in row order, in one pass.
        var count = Math.Max(1, (int)Math.Round(train.Length * Subsample));
        var chosen = 0;
        for (var i = 0; i < train.Length && chosen < count; i++)
        {
            // Branch-free: a coin flip per row would mispredict half the time.
            destination[chosen] = train[i];
            chosen += (train.Length - i) * random.NextDouble() < count - chosen ? 1 : 0;
        }

        return chosen;
    }
}
