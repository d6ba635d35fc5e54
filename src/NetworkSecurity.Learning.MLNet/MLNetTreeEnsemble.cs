using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// The trees of a trained ML.NET FastTree or LightGBM binary model, read through ML.NET's public model parameters
/// (<see cref="RegressionTreeEnsemble"/> and the Platt calibrator) into our flat trees. They compute exactly what
/// ML.NET computes: score = (float)(Σ weight · leaf) and P = (float)(1 / (1 + exp(slope · score + offset))), with the
/// row rounded to float first as ML.NET sees it. So we can score single rows without a prediction engine and explain
/// ML.NET's verdicts with the same TreeSHAP as our own trees, on the log-odds scale −(slope · score + offset).
/// ML.NET keeps no per-node training counts; the cover TreeSHAP needs is counted by passing the training rows down
/// the trees (<see cref="WithCover"/>) and persisted beside the zip.
/// </summary>
public sealed class MLNetTreeEnsemble
{
    private readonly double[] _weights;

    // Our boosted-trees model over the same trees (base 0, trees in order: the same sum as ML.NET's) scores single rows
    // by leaf masks and batches tree by tree on byte-coded features; only when every tree weight is 1, as both trainers
    // make them.
    private readonly GradientBoostingModel? _boosting;

    private MLNetTreeEnsemble(FlatTree[] trees, double[] weights, double slope, double offset, int featureCount)
    {
        Trees = trees;
        _weights = weights;
        _boosting = weights.All(w => w == 1) ? new GradientBoostingModel(featureCount, 0.0, trees) : null;
        Slope = slope;
        Offset = offset;
        FeatureCount = featureCount;
    }

    public FlatTree[] Trees { get; }

    /// <summary>ML.NET's per-tree weights (1 for the trainers here, kept for exactness).</summary>
    public IReadOnlyList<double> Weights => _weights;

    public double Slope { get; }

    public double Offset { get; }

    public int FeatureCount { get; }

    public bool HasCover => Trees.All(t => t.Cover is not null);

    /// <summary>
    /// Reads the trees, or returns null with the reason when the model is not a Platt-calibrated tree ensemble with
    /// numerical splits only (then the ML.NET engine scores it and it cannot explain).
    /// </summary>
    public static MLNetTreeEnsemble? TryRead(ITransformer transformer, int featureCount, out string? reason)
    {
        var model = (transformer as ISingleFeaturePredictionTransformer<object>)?.Model;
        if (model is null)
        {
            reason = "the ML.NET model is not a single predictor";
            return null;
        }

        var type = model.GetType();
        // The calibrated wrapper is generic (CalibratedModelParametersBase<TSubModel, TCalibrator>) and its derived
        // types redeclare SubModel/Calibrator, so read every public property of that name.
        var trees = Property<TreeEnsembleModelParametersBasedOnRegressionTree>(model, "SubModel");
        var platt = Property<PlattCalibrator>(model, "Calibrator");
        if (trees is null || platt is null)
        {
            reason = $"the ML.NET model ({type.Name}) is not a Platt-calibrated tree ensemble";
            return null;
        }

        var ensemble = trees.TrainedTreeEnsemble;
        if (ensemble.Bias != 0)
        {
            reason = "the ML.NET tree ensemble has a bias term this reader does not model";
            return null;
        }

        var flat = new FlatTree[ensemble.Trees.Count];
        for (var t = 0; t < flat.Length; t++)
        {
            var converted = Convert(ensemble.Trees[t], featureCount, out reason);
            if (converted is null)
            {
                return null;
            }

            flat[t] = converted;
        }

        reason = null;
        return new MLNetTreeEnsemble(flat, [.. ensemble.TreeWeights], platt.Slope, platt.Offset, featureCount);
    }

    private static T? Property<T>(object owner, string name)
        where T : class =>
        owner.GetType().GetProperties().Where(p => p.Name == name).Select(p => p.GetValue(owner)).OfType<T>().FirstOrDefault();

    // ML.NET: node 0 is the root; a child index < 0 is leaf ~index; x goes left when x ≤ threshold. Ours: the children
    // of a node are adjacent (Child, Child + 1) and x goes right when x > threshold, the same rule for every number.
    private static FlatTree? Convert(RegressionTree tree, int featureCount, out string? reason)
    {
        if (tree.NumberOfNodes == 0)
        {
            reason = null;
            return new FlatTree([new TreeNode(tree.LeafValues[0], -1, 0)]);
        }

        var nodes = new TreeNode[(2 * tree.NumberOfNodes) + 1];
        var count = 1;
        var queue = new Queue<(int Slot, int Source)>();
        queue.Enqueue((0, 0));
        while (queue.Count > 0)
        {
            var (slot, source) = queue.Dequeue();
            if (source < 0)
            {
                nodes[slot] = new TreeNode(tree.LeafValues[~source], -1, 0);
                continue;
            }

            var feature = tree.NumericalSplitFeatureIndexes[source];
            if (tree.CategoricalSplitFlags[source] || feature < 0 || feature >= featureCount)
            {
                reason = $"the ML.NET tree has a split this reader does not support (node {source})";
                return null;
            }

            nodes[slot] = new TreeNode(tree.NumericalSplitThresholds[source], feature, count);
            queue.Enqueue((count, tree.LeftChild[source]));
            queue.Enqueue((count + 1, tree.RightChild[source]));
            count += 2;
        }

        reason = null;
        return new FlatTree(nodes[..count]);
    }

    /// <summary>The same trees with their cover: how many of <paramref name="rows"/> reach each node.</summary>
    public MLNetTreeEnsemble WithCover(FeatureMatrix rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var rounded = new double[FeatureCount];
        var covers = Trees.Select(t => new double[t.Nodes.Length]).ToArray();
        for (var r = 0; r < rows.Rows; r++)
        {
            RoundToFloat(rows.Row(r), rounded);
            for (var t = 0; t < Trees.Length; t++)
            {
                var nodes = Trees[t].Nodes;
                var cover = covers[t];
                var node = 0;
                cover[0]++;
                while (!nodes[node].IsLeaf)
                {
                    node = nodes[node].Child + (rounded[nodes[node].Feature] > nodes[node].Threshold ? 1 : 0);
                    cover[node]++;
                }
            }
        }

        return WithCover(covers);
    }

    /// <summary>The same trees with the given cover (one array per tree, in our node order).</summary>
    public MLNetTreeEnsemble WithCover(IReadOnlyList<double[]> covers)
    {
        ArgumentNullException.ThrowIfNull(covers);
        if (covers.Count != Trees.Length)
        {
            throw new InvalidDataException($"The cover has {covers.Count} trees; the ML.NET model has {Trees.Length}.");
        }

        var trees = new FlatTree[Trees.Length];
        for (var t = 0; t < trees.Length; t++)
        {
            if (covers[t].Length != Trees[t].Nodes.Length)
            {
                throw new InvalidDataException($"The cover of tree {t} has {covers[t].Length} nodes; the tree has {Trees[t].Nodes.Length}.");
            }

            trees[t] = new FlatTree(Trees[t].Nodes, covers[t]);
        }

        return new MLNetTreeEnsemble(trees, _weights, Slope, Offset, FeatureCount);
    }

    /// <summary>ML.NET's score (the sum of the trees) for a row without missing values, rounded to float as ML.NET does.</summary>
    public float Score(ReadOnlySpan<double> features)
    {
        Span<double> rounded = stackalloc double[FeatureCount];
        RoundToFloat(features, rounded);
        return (float)Sum(rounded);
    }

    /// <summary>ML.NET's calibrated probability of label 1.</summary>
    public double Probability(ReadOnlySpan<double> features) => Calibrate(Score(features));

    /// <summary>ML.NET's calibrated probability for every row (rows without missing values).</summary>
    public void Probabilities(FeatureMatrix features, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (_boosting is null)
        {
            for (var i = 0; i < features.Rows; i++)
            {
                destination[i] = Probability(features.Row(i));
            }

            return;
        }

        _boosting.RawScores(RoundToFloat(features), Trees.Length, destination);
        for (var i = 0; i < features.Rows; i++)
        {
            destination[i] = Calibrate((float)destination[i]);
        }
    }

    public double Calibrate(float score) => (float)(1.0 / (1.0 + Math.Exp((Slope * score) + Offset)));

    /// <summary>
    /// The score on the log-odds scale, summed in double (not rounded to float) so that it equals
    /// <see cref="BaseValue"/> + Σ contributions to rounding: P = sigmoid(this) up to ML.NET's float rounding.
    /// </summary>
    public double LogOdds(ReadOnlySpan<double> features)
    {
        Span<double> rounded = stackalloc double[FeatureCount];
        RoundToFloat(features, rounded);
        return -((Slope * Sum(rounded)) + Offset);
    }

    /// <summary>The expected log-odds over the cover rows: what the TreeSHAP contributions start from.</summary>
    public double BaseValue()
    {
        double expected = 0;
        for (var t = 0; t < Trees.Length; t++)
        {
            expected += _weights[t] * TreeShap.ExpectedValue(Trees[t]);
        }

        return -((Slope * expected) + Offset);
    }

    /// <summary>TreeSHAP on the log-odds scale; the contributions sum to <see cref="LogOdds"/> − <see cref="BaseValue"/>.</summary>
    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        Span<double> rounded = stackalloc double[FeatureCount];
        RoundToFloat(features, rounded);
        contributions[..FeatureCount].Clear();
        Shap.Add(rounded, contributions);
    }

    /// <summary>The prepared TreeSHAP over these trees (weighted, on the log-odds scale), built on first use.</summary>
    public TreeShapEnsemble Shap => LazyInitializer.EnsureInitialized(ref _shap, ref _shapGate, () => new TreeShapEnsemble(
        [.. Trees.Select((tree, t) => _weights[t] == 1 ? tree : tree.MapLeaves(value => _weights[t] * value))], FeatureCount, -Slope));

    private TreeShapEnsemble? _shap;

    // One thread builds it while the others wait (see GradientBoostingModel).
    private object? _shapGate;

    /// <summary>The rows as ML.NET sees them: every value rounded to float.</summary>
    public static FeatureMatrix RoundToFloat(FeatureMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var rounded = new double[features.Values.Length];
        for (var i = 0; i < rounded.Length; i++)
        {
            rounded[i] = (float)features.Values[i];
        }

        return new FeatureMatrix(rounded, features.Rows, features.Columns);
    }

    private double Sum(ReadOnlySpan<double> rounded)
    {
        // The same order as ML.NET's InternalTreeEnsemble.GetOutput: tree by tree from 0.
        if (_boosting is not null)
        {
            return _boosting.RawScore(rounded, Trees.Length);
        }

        double sum = 0;
        var trees = Trees;
        var weights = _weights;
        for (var t = 0; t < trees.Length; t++)
        {
            sum += weights[t] * trees[t].Predict(rounded);
        }

        return sum;
    }

    private static void RoundToFloat(ReadOnlySpan<double> features, Span<double> rounded)
    {
        for (var j = 0; j < rounded.Length; j++)
        {
            rounded[j] = (float)features[j];
        }
    }
}
