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

/// <summary>A binary tree stored as one array of nodes: scoring walks it with no allocation and no pointer chasing.</summary>
public sealed class FlatTree
{
    public FlatTree(TreeNode[] nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Length == 0)
        {
            throw new ArgumentException("A tree needs at least one node.", nameof(nodes));
        }

        Nodes = nodes;
    }

    public TreeNode[] Nodes { get; }

    public int LeafCount => Nodes.Count(n => n.IsLeaf);

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
    }

    public static FlatTree ReadFrom(BinaryReader reader, int featureCount)
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

        return new FlatTree(nodes);
    }
}
