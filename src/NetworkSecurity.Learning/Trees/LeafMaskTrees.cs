using System.Numerics;

namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// Trees of up to 64 leaves re-encoded for scoring one row without walking them (the QuickScorer idea: Lucchese et
/// al., SIGIR 2015). Leaves are numbered left to right; a split the row does not take to the left (x &gt; threshold)
/// rules out every leaf of its left subtree, and the row's leaf is the leftmost one no split rules out. Each feature's
/// thresholds over the whole ensemble are numbered, the row becomes one code per feature (how many thresholds it
/// exceeds), and per tree and feature a table gives, for each code, the leaves still possible: the leaf is the lowest
/// set bit of the AND over the tree's features. No branch depends on the row, so a single row costs a few ns per tree
/// instead of a mispredicted branch per level. Sums run tree by tree in order: the same double as
/// <see cref="FlatTree.Predict"/> tree after tree. NaN exceeds no threshold, so it goes left, as in <see cref="FlatTree"/>.
/// </summary>
public sealed class LeafMaskTrees
{
    /// <summary>Above this many masks (8 bytes each) the trees are not encoded: thresholds are too many.</summary>
    public const int MaxMasks = 1 << 21;

    private readonly double[][] _thresholds;   // per feature, sorted distinct thresholds
    private readonly int[] _treeStart;         // per tree, its first entry in _entryFeature/_entryOffset
    private readonly int[] _entryFeature;      // per (tree, feature used) entry: the feature
    private readonly int[] _entryOffset;       // ... and where its masks start (one per code)
    private readonly ulong[] _masks;
    private readonly double[][] _leafValues;   // per tree, leaf values left to right

    private LeafMaskTrees(double[][] thresholds, int[] treeStart, int[] entryFeature, int[] entryOffset, ulong[] masks, double[][] leafValues)
    {
        _thresholds = thresholds;
        _treeStart = treeStart;
        _entryFeature = entryFeature;
        _entryOffset = entryOffset;
        _masks = masks;
        _leafValues = leafValues;
    }

    public int FeatureCount => _thresholds.Length;

    public int TreeCount => _leafValues.Length;

    /// <summary>The encoding, or null when a tree has more than 64 leaves or the tables would exceed <see cref="MaxMasks"/>.</summary>
    public static LeafMaskTrees? TryCreate(IReadOnlyList<FlatTree> trees, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(trees);
        if (trees.Any(t => t.LeafCount > 64))
        {
            return null;
        }

        var thresholds = FlatTree.SplitThresholds(trees, featureCount);

        var treeStart = new int[trees.Count + 1];
        var entryFeature = new List<int>();
        var entryOffset = new List<int>();
        var masks = new List<ulong>();
        var leafValues = new double[trees.Count][];
        for (var t = 0; t < trees.Count; t++)
        {
            var nodes = trees[t].Nodes;
            var leaves = new List<double>();
            var leftLeaves = new ulong[nodes.Length]; // per inner node: the leaves of its left subtree
            Number(nodes, 0, leaves, leftLeaves);
            leafValues[t] = [.. leaves];

            treeStart[t] = entryFeature.Count;
            foreach (var feature in nodes.Where(n => !n.IsLeaf).Select(n => n.Feature).Distinct().Order())
            {
                var codes = thresholds[feature].Length + 1;
                if (masks.Count + codes > MaxMasks)
                {
                    return null;
                }

                entryFeature.Add(feature);
                entryOffset.Add(masks.Count);
                for (var code = 0; code < codes; code++)
                {
                    // Code c exceeds thresholds 0..c-1: every split on this feature at those thresholds goes right.
                    var mask = ulong.MaxValue;
                    for (var n = 0; n < nodes.Length; n++)
                    {
                        if (!nodes[n].IsLeaf && nodes[n].Feature == feature && Array.BinarySearch(thresholds[feature], nodes[n].Threshold) < code)
                        {
                            mask &= ~leftLeaves[n];
                        }
                    }

                    masks.Add(mask);
                }
            }
        }

        treeStart[trees.Count] = entryFeature.Count;
        return new LeafMaskTrees(thresholds, treeStart, [.. entryFeature], [.. entryOffset], [.. masks], leafValues);
    }

    // Numbers the leaves under `node` left to right; returns the mask of those leaves.
    private static ulong Number(TreeNode[] nodes, int node, List<double> leaves, ulong[] leftLeaves)
    {
        if (nodes[node].IsLeaf)
        {
            leaves.Add(nodes[node].Value);
            return 1UL << (leaves.Count - 1);
        }

        var left = Number(nodes, nodes[node].Child, leaves, leftLeaves);
        leftLeaves[node] = left;
        return left | Number(nodes, nodes[node].Child + 1, leaves, leftLeaves);
    }

    /// <summary><paramref name="start"/> plus every tree's leaf value for the row, added tree by tree in order.</summary>
    public double Sum(ReadOnlySpan<double> features, double start = 0)
    {
        Span<int> codes = stackalloc int[_thresholds.Length];
        for (var f = 0; f < codes.Length; f++)
        {
            codes[f] = Code(_thresholds[f], features[f]);
        }

        var sum = start;
        var masks = _masks;
        var entryFeature = _entryFeature;
        var entryOffset = _entryOffset;
        var treeStart = _treeStart;
        for (var t = 0; t < _leafValues.Length; t++)
        {
            var possible = ulong.MaxValue;
            for (var e = treeStart[t]; e < treeStart[t + 1]; e++)
            {
                possible &= masks[entryOffset[e] + codes[entryFeature[e]]];
            }

            sum += _leafValues[t][BitOperations.TrailingZeroCount(possible)];
        }

        return sum;
    }

    // How many thresholds x exceeds (x > t); NaN exceeds none. Few thresholds per feature here: a linear count.
    private static int Code(double[] thresholds, double x)
    {
        if (thresholds.Length > 8)
        {
            var lo = 0;
            var hi = thresholds.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (x > thresholds[mid])
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        var code = 0;
        foreach (var threshold in thresholds)
        {
            code += x > threshold ? 1 : 0;
        }

        return code;
    }
}
