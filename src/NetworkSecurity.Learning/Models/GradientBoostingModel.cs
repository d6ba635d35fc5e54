using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Models;

/// <summary>Boosted regression trees on the log-odds scale: p = sigmoid(base + Σ trees).</summary>
public sealed class GradientBoostingModel : IPersistableModel, IStagedClassifierModel
{
    public const string ModelKind = "gbdt";
    private const int BlockRows = 512;

    public GradientBoostingModel(int featureCount, double baseScore, IReadOnlyList<FlatTree> trees)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureCount);
        FeatureCount = featureCount;
        BaseScore = baseScore;
        Trees = [.. trees];
        // Batch layouts are built on first use: many models of a search are scored once, or never in batch.
        _quantized = new Lazy<QuantizedTrees?>(() => QuantizedTrees.TryCreate(Trees, featureCount));
        _batch = new Lazy<BatchTree[]>(() => Trees.Select(BatchTree.From).ToArray());
    }

    private readonly Lazy<QuantizedTrees?> _quantized;

    private readonly Lazy<BatchTree[]> _batch;

    public string Kind => ModelKind;

    public int FeatureCount { get; }

    public double BaseScore { get; }

    public FlatTree[] Trees { get; }

    public int StageCount => Trees.Length;

    public double PredictProbability(ReadOnlySpan<double> features) => Sigmoid(RawScore(features, Trees.Length));

    public double RawScore(ReadOnlySpan<double> features, int stages)
    {
        var score = BaseScore;
        var trees = Trees;
        for (var t = 0; t < stages; t++)
        {
            score += trees[t].Predict(features);
        }

        return score;
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination) => PredictProbabilities(features, Trees.Length, destination);

    public void PredictProbabilities(FeatureMatrix features, int stages, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, Trees.Length);
        if (destination.Length < features.Rows)
        {
            throw new ArgumentException("destination is shorter than the number of rows.", nameof(destination));
        }

        var output = new double[features.Rows];
        var blocks = (features.Rows + BlockRows - 1) / BlockRows;

        // Blocks of rows in parallel; within a block, tree by tree so each tree stays in cache.
        Parallel.For(0, blocks, block =>
        {
            var start = block * BlockRows;
            var end = Math.Min(features.Rows, start + BlockRows);
            for (var r = start; r < end; r++)
            {
                output[r] = BaseScore;
            }

            var values = features.Values;
            var columns = features.Columns;
            if (_quantized.Value is { } quantized)
            {
                var codes = new byte[(end - start) * columns];
                quantized.Encode(values, start, end, codes);
                for (var t = 0; t < stages; t++)
                {
                    quantized.AddTo(t, codes, end - start, output, start);
                }
            }
            else
            {
                var batch = _batch.Value;
                for (var t = 0; t < stages; t++)
                {
                    batch[t].AddTo(values, columns, start, end, output);
                }
            }

            for (var r = start; r < end; r++)
            {
                output[r] = Sigmoid(output[r]);
            }
        });
        output.CopyTo(destination);
    }

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FeatureCount);
        writer.Write(BaseScore);
        writer.Write(Trees.Length);
        foreach (var tree in Trees)
        {
            tree.WriteTo(writer);
        }
    }

    public static GradientBoostingModel ReadFrom(BinaryReader reader)
    {
        var featureCount = reader.ReadInt32();
        var baseScore = reader.ReadDouble();
        var count = reader.ReadInt32();
        if (featureCount <= 0 || count < 0 || count > 1_000_000)
        {
            throw new InvalidDataException("Invalid gradient boosting model header.");
        }

        var trees = new FlatTree[count];
        for (var i = 0; i < count; i++)
        {
            trees[i] = FlatTree.ReadFrom(reader, featureCount);
        }

        return new GradientBoostingModel(featureCount, baseScore, trees);
    }

    /// <summary>
    /// A tree laid out for scoring many rows at once: leaves point to themselves with an infinite threshold, so four
    /// rows walk the tree in lock-step for a fixed number of steps with no branches, and their memory loads overlap.
    /// </summary>
    private sealed class BatchTree
    {
        private readonly TreeNode[] _nodes; // leaves: Value = +∞ threshold, Feature = 0, Child = itself
        private readonly double[] _value;
        private readonly int _depth;

        private BatchTree(TreeNode[] nodes, double[] value, int depth)
        {
            _nodes = nodes;
            _value = value;
            _depth = depth;
        }

        public static BatchTree From(FlatTree tree)
        {
            var source = tree.Nodes;
            var nodes = new TreeNode[source.Length];
            var value = new double[source.Length];
            var depth = new int[source.Length];
            var maxDepth = 0;
            for (var i = 0; i < source.Length; i++)
            {
                if (source[i].IsLeaf)
                {
                    nodes[i] = new TreeNode(double.PositiveInfinity, 0, i);
                    value[i] = source[i].Value;
                    maxDepth = Math.Max(maxDepth, depth[i]);
                }
                else
                {
                    nodes[i] = source[i];
                    depth[source[i].Child] = depth[i] + 1;
                    depth[source[i].Child + 1] = depth[i] + 1;
                }
            }

            return new BatchTree(nodes, value, maxDepth);
        }

        // Indices come from a validated tree and rows of the right width: bounds checks are skipped on purpose.
        public void AddTo(double[] features, int columns, int start, int end, double[] output)
        {
            ref var node0 = ref MemoryMarshal.GetArrayDataReference(_nodes);
            ref var x = ref MemoryMarshal.GetArrayDataReference(features);
            var r = start;
            for (; r + 4 <= end; r += 4)
            {
                int a = 0, b = 0, c = 0, d = 0;
                ref var xa = ref Unsafe.Add(ref x, r * columns);
                ref var xb = ref Unsafe.Add(ref xa, columns);
                ref var xc = ref Unsafe.Add(ref xb, columns);
                ref var xd = ref Unsafe.Add(ref xc, columns);
                for (var step = 0; step < _depth; step++)
                {
                    ref readonly var na = ref Unsafe.Add(ref node0, a);
                    ref readonly var nb = ref Unsafe.Add(ref node0, b);
                    ref readonly var nc = ref Unsafe.Add(ref node0, c);
                    ref readonly var nd = ref Unsafe.Add(ref node0, d);
                    a = na.Child + (Unsafe.Add(ref xa, na.Feature) > na.Value ? 1 : 0);
                    b = nb.Child + (Unsafe.Add(ref xb, nb.Feature) > nb.Value ? 1 : 0);
                    c = nc.Child + (Unsafe.Add(ref xc, nc.Feature) > nc.Value ? 1 : 0);
                    d = nd.Child + (Unsafe.Add(ref xd, nd.Feature) > nd.Value ? 1 : 0);
                }

                output[r] += _value[a];
                output[r + 1] += _value[b];
                output[r + 2] += _value[c];
                output[r + 3] += _value[d];
            }

            for (; r < end; r++)
            {
                var i = 0;
                ref var row = ref Unsafe.Add(ref x, r * columns);
                for (var step = 0; step < _depth; step++)
                {
                    ref readonly var n = ref Unsafe.Add(ref node0, i);
                    i = n.Child + (Unsafe.Add(ref row, n.Feature) > n.Value ? 1 : 0);
                }

                output[r] += _value[i];
            }
        }
    }
}
