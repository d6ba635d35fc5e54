namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// One node of a flat tree, 16 bytes. An inner node sends x to <see cref="Child"/> when x[Feature] ≤ Threshold (or
/// is NaN), else to Child + 1. A leaf has Feature = -1 and its output in <see cref="Value"/>.
/// </summary>
public readonly record struct TreeNode(double Value, int Feature, int Child)
{
    public bool IsLeaf => Feature < 0;

    public double Threshold => Value;
}

/// <summary>
/// A binary tree stored as one array of nodes: scoring walks it with no allocation and no pointer chasing.
/// <see cref="Cover"/> (kept apart so scoring's nodes stay 16 bytes) is the training weight that reached each node;
/// TreeSHAP needs it. Trees read from format-1 files have none.
/// </summary>
public sealed class FlatTree
{
    private int _depth = -1;

    public FlatTree(TreeNode[] nodes, double[]? cover = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Length == 0)
        {
            throw new ArgumentException("A tree needs at least one node.", nameof(nodes));
        }

        if (cover is not null && cover.Length != nodes.Length)
        {
            throw new ArgumentException($"A tree of {nodes.Length} nodes needs {nodes.Length} cover values, got {cover.Length}.", nameof(cover));
        }

        // The file reader's rule, for trees built by hand too: a child at or before its parent made Predict loop
        // forever, one past the end an IndexOutOfRangeException on the rows that reach it.
        for (var i = 0; i < nodes.Length; i++)
        {
            if (!nodes[i].IsLeaf && (nodes[i].Child <= i || nodes[i].Child >= nodes.Length - 1))
            {
                throw new ArgumentException(
                    $"Node {i} sends rows to nodes {nodes[i].Child} and {nodes[i].Child + 1}; in a tree of {nodes.Length} nodes both must come after it.", nameof(nodes));
            }
        }

        Nodes = nodes;
        Cover = cover;
    }

    public TreeNode[] Nodes { get; }

    /// <summary>Training weight per node (children sum to their parent), or null for trees from older model files.</summary>
    public double[]? Cover { get; }

    /// <summary>Edges on the longest root-to-leaf path.</summary>
    public int Depth => _depth >= 0 ? _depth : _depth = DepthOf(0);

    private int DepthOf(int node) =>
        Nodes[node].IsLeaf ? 0 : 1 + Math.Max(DepthOf(Nodes[node].Child), DepthOf(Nodes[node].Child + 1));

    /// <summary>The same tree with every leaf value mapped (cover kept), e.g. AdaBoost's votes.</summary>
    public FlatTree MapLeaves(Func<double, double> map) =>
        new([.. Nodes.Select(n => n.IsLeaf ? n with { Value = map(n.Value) } : n)], Cover);

    public int LeafCount => Nodes.Count(n => n.IsLeaf);

    /// <summary>Per feature, the distinct split thresholds of all <paramref name="trees"/>, ascending.</summary>
    public static double[][] SplitThresholds(IReadOnlyList<FlatTree> trees, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(trees);
        var sets = Enumerable.Range(0, featureCount).Select(_ => new SortedSet<double>()).ToArray();
        foreach (var tree in trees)
        {
            foreach (var node in tree.Nodes)
            {
                if (!node.IsLeaf)
                {
                    sets[node.Feature].Add(node.Threshold);
                }
            }
        }

        return [.. sets.Select(s => s.ToArray())];
    }

    public double Predict(ReadOnlySpan<double> features)
    {
        var nodes = Nodes;
        var node = nodes[0];
        while (node.Feature >= 0)
        {
            // NaN compares false, so it goes left, as it was binned in training.
            node = nodes[node.Child + (features[node.Feature] > node.Value ? 1 : 0)];
        }

        return node.Value;
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Nodes.Length);
        foreach (var node in Nodes)
        {
            writer.Write(node.Value);
            writer.Write(node.Feature);
            writer.Write(node.Child);
        }

        // Format 2: a flag, then the cover of every node.
        writer.Write(Cover is not null);
        foreach (var weight in Cover ?? [])
        {
            writer.Write(weight);
        }
    }

    /// <param name="formatVersion">The file's format version: 1 has no cover, 2 has it.</param>
    public static FlatTree ReadFrom(BinaryReader reader, int featureCount, int formatVersion)
    {
        var count = reader.ReadInt32();
        if (count is < 1 or > 10_000_000)
        {
            throw new InvalidDataException($"Invalid tree node count {count}.");
        }

        var nodes = new TreeNode[count];
        for (var i = 0; i < count; i++)
        {
            nodes[i] = new TreeNode(reader.ReadDouble(), reader.ReadInt32(), reader.ReadInt32());
            if (nodes[i].Feature >= featureCount || (!nodes[i].IsLeaf && (nodes[i].Child <= i || nodes[i].Child + 1 >= count)))
            {
                throw new InvalidDataException($"Tree node {i} is invalid.");
            }
        }

        double[]? cover = null;
        if (formatVersion >= 2 && reader.ReadBoolean())
        {
            cover = new double[count];
            for (var i = 0; i < count; i++)
            {
                cover[i] = reader.ReadDouble();
                if (!(cover[i] >= 0))
                {
                    throw new InvalidDataException($"Tree node {i} has an invalid cover {cover[i]}.");
                }
            }
        }

        return new FlatTree(nodes, cover);
    }
}
