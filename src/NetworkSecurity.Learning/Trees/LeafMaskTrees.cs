using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
/// When features have few thresholds (the phishing data's are ternary: two each), the tables are laid out densely, one
/// row per (feature, code) with one mask per tree, so four trees are settled at once by AND-ing one vector per feature;
/// otherwise each tree keeps only its own features' tables.
/// </summary>
public sealed class LeafMaskTrees
{
    /// <summary>Above this many masks (8 bytes each) the trees are not encoded: thresholds are too many.</summary>
    public const int MaxMasks = 1 << 21;

    /// <summary>The dense layout's budget (2 MB): beyond it each tree keeps only the tables of the features it uses.</summary>
    internal const int MaxDenseMasks = 1 << 18;

    private const int MaxDenseFeatures = 1024; // the row offsets of a dense sum live on the stack

    private readonly double[][] _thresholds;   // per feature, sorted distinct thresholds
    private readonly double[] _leafValues;     // every tree's leaves left to right, tree after tree
    private readonly int[] _leafStart;         // per tree, its first leaf in _leafValues
    private readonly ulong[] _masks;

    // Dense layout: per used feature, a row of one mask per tree for each code, rows of a feature one after another.
    private readonly int[]? _denseFeature;
    private readonly int[]? _denseOffset;

    // Sparse layout: per (tree, feature used) entry, the feature and where its masks (one per code) start.
    private readonly int[]? _treeStart;
    private readonly int[]? _entryFeature;
    private readonly int[]? _entryOffset;

    private LeafMaskTrees(double[][] thresholds, double[] leafValues, int[] leafStart, ulong[] masks,
        int[]? denseFeature, int[]? denseOffset, int[]? treeStart, int[]? entryFeature, int[]? entryOffset)
    {
        _thresholds = thresholds;
        _leafValues = leafValues;
        _leafStart = leafStart;
        _masks = masks;
        _denseFeature = denseFeature;
        _denseOffset = denseOffset;
        _treeStart = treeStart;
        _entryFeature = entryFeature;
        _entryOffset = entryOffset;
    }

    public int FeatureCount => _thresholds.Length;

    public int TreeCount => _leafStart.Length - 1;

    /// <summary>True when the tables are laid out densely (one row per feature and code over all trees).</summary>
    public bool IsDense => _denseFeature is not null;

    /// <summary>The encoding, or null when a tree has more than 64 leaves or the tables would exceed <see cref="MaxMasks"/>.</summary>
    public static LeafMaskTrees? TryCreate(IReadOnlyList<FlatTree> trees, int featureCount) => TryCreate(trees, featureCount, MaxDenseMasks);

    internal static LeafMaskTrees? TryCreate(IReadOnlyList<FlatTree> trees, int featureCount, int maxDenseMasks)
    {
        ArgumentNullException.ThrowIfNull(trees);
        if (trees.Any(t => t.LeafCount > 64))
        {
            return null;
        }

        var thresholds = FlatTree.SplitThresholds(trees, featureCount);
        var leafStart = new int[trees.Count + 1];
        var leafValues = new List<double>();
        var treeMasks = new Dictionary<int, ulong[]>[trees.Count]; // per tree: feature used → its mask per code
        long sparseMasks = 0;
        for (var t = 0; t < trees.Count; t++)
        {
            var nodes = trees[t].Nodes;
            leafStart[t] = leafValues.Count;
            var leftLeaves = new ulong[nodes.Length]; // per inner node: the leaves of its left subtree
            Number(nodes, 0, leafValues, leafStart[t], leftLeaves);
            treeMasks[t] = [];
            foreach (var feature in nodes.Where(n => !n.IsLeaf).Select(n => n.Feature).Distinct())
            {
                sparseMasks += thresholds[feature].Length + 1;
                if (sparseMasks > MaxMasks)
                {
                    return null;
                }

                treeMasks[t][feature] = CodeMasks(nodes, leftLeaves, feature, thresholds[feature]);
            }
        }

        leafStart[trees.Count] = leafValues.Count;
        var used = treeMasks.SelectMany(m => m.Keys).Distinct().Order().ToArray();
        var denseMasks = used.Sum(f => (long)(thresholds[f].Length + 1)) * trees.Count;
        if (denseMasks <= maxDenseMasks && used.Length <= MaxDenseFeatures)
        {
            var masks = new ulong[denseMasks];
            var offsets = new int[used.Length];
            var at = 0;
            for (var slot = 0; slot < used.Length; slot++)
            {
                offsets[slot] = at;
                var codes = thresholds[used[slot]].Length + 1;
                for (var code = 0; code < codes; code++, at += trees.Count)
                {
                    for (var t = 0; t < trees.Count; t++)
                    {
                        masks[at + t] = treeMasks[t].TryGetValue(used[slot], out var perCode) ? perCode[code] : ulong.MaxValue;
                    }
                }
            }

            return new LeafMaskTrees(thresholds, [.. leafValues], leafStart, masks, used, offsets, null, null, null);
        }

        var treeStart = new int[trees.Count + 1];
        var entryFeature = new List<int>();
        var entryOffset = new List<int>();
        var sparse = new List<ulong>();
        for (var t = 0; t < trees.Count; t++)
        {
            treeStart[t] = entryFeature.Count;
            foreach (var (feature, perCode) in treeMasks[t].OrderBy(e => e.Key))
            {
                entryFeature.Add(feature);
                entryOffset.Add(sparse.Count);
                sparse.AddRange(perCode);
            }
        }

        treeStart[trees.Count] = entryFeature.Count;
        return new LeafMaskTrees(thresholds, [.. leafValues], leafStart, [.. sparse], null, null, treeStart, [.. entryFeature], [.. entryOffset]);
    }

    // Per code of `feature` (how many of its thresholds the row exceeds): the leaves of the tree still possible.
    private static ulong[] CodeMasks(TreeNode[] nodes, ulong[] leftLeaves, int feature, double[] thresholds)
    {
        var perCode = new ulong[thresholds.Length + 1];
        for (var code = 0; code < perCode.Length; code++)
        {
            // Code c exceeds thresholds 0..c-1: every split on this feature at those thresholds goes right.
            var mask = ulong.MaxValue;
            for (var n = 0; n < nodes.Length; n++)
            {
                if (!nodes[n].IsLeaf && nodes[n].Feature == feature && Array.BinarySearch(thresholds, nodes[n].Threshold) < code)
                {
                    mask &= ~leftLeaves[n];
                }
            }

            perCode[code] = mask;
        }

        return perCode;
    }

    // Numbers the leaves under `node` left to right (from `first`); returns the mask of those leaves.
    private static ulong Number(TreeNode[] nodes, int node, List<double> leaves, int first, ulong[] leftLeaves)
    {
        if (nodes[node].IsLeaf)
        {
            leaves.Add(nodes[node].Value);
            return 1UL << (leaves.Count - 1 - first);
        }

        var left = Number(nodes, nodes[node].Child, leaves, first, leftLeaves);
        leftLeaves[node] = left;
        return left | Number(nodes, nodes[node].Child + 1, leaves, first, leftLeaves);
    }

    /// <summary><paramref name="start"/> plus every tree's leaf value for the row, added tree by tree in order.</summary>
    public double Sum(ReadOnlySpan<double> features, double start = 0) =>
        _denseFeature is not null ? DenseSum(features, start) : SparseSum(features, start);

    private double DenseSum(ReadOnlySpan<double> features, double start)
    {
        var used = _denseFeature!;
        var trees = TreeCount;
        Span<int> rows = stackalloc int[used.Length]; // per used feature: the row of masks for the row's code
        for (var slot = 0; slot < used.Length; slot++)
        {
            var f = used[slot];
            rows[slot] = _denseOffset![slot] + (Code(_thresholds[f], features[f]) * trees);
        }

        ref var masks = ref MemoryMarshal.GetArrayDataReference(_masks);
        var leaves = _leafValues;
        var leafStart = _leafStart;
        var sum = start;
        var t = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; t + 8 <= trees; t += 8)
            {
                var possible = Vector512<ulong>.AllBitsSet;
                foreach (var row in rows)
                {
                    possible &= Vector512.LoadUnsafe(ref masks, (nuint)(row + t));
                }

                // Leaf of each tree: its first possible leaf. Summed in tree order, as the tree walk does.
                var low = possible.GetLower();
                var high = possible.GetUpper();
                sum += leaves[leafStart[t] + BitOperations.TrailingZeroCount(low.GetElement(0))];
                sum += leaves[leafStart[t + 1] + BitOperations.TrailingZeroCount(low.GetElement(1))];
                sum += leaves[leafStart[t + 2] + BitOperations.TrailingZeroCount(low.GetElement(2))];
                sum += leaves[leafStart[t + 3] + BitOperations.TrailingZeroCount(low.GetElement(3))];
                sum += leaves[leafStart[t + 4] + BitOperations.TrailingZeroCount(high.GetElement(0))];
                sum += leaves[leafStart[t + 5] + BitOperations.TrailingZeroCount(high.GetElement(1))];
                sum += leaves[leafStart[t + 6] + BitOperations.TrailingZeroCount(high.GetElement(2))];
                sum += leaves[leafStart[t + 7] + BitOperations.TrailingZeroCount(high.GetElement(3))];
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; t + 4 <= trees; t += 4)
            {
                var possible = Vector256<ulong>.AllBitsSet;
                foreach (var row in rows)
                {
                    possible &= Vector256.LoadUnsafe(ref masks, (nuint)(row + t));
                }

                sum += leaves[leafStart[t] + BitOperations.TrailingZeroCount(possible.GetElement(0))];
                sum += leaves[leafStart[t + 1] + BitOperations.TrailingZeroCount(possible.GetElement(1))];
                sum += leaves[leafStart[t + 2] + BitOperations.TrailingZeroCount(possible.GetElement(2))];
                sum += leaves[leafStart[t + 3] + BitOperations.TrailingZeroCount(possible.GetElement(3))];
            }
        }

        for (; t < trees; t++)
        {
            var possible = ulong.MaxValue;
            foreach (var row in rows)
            {
                possible &= Unsafe.Add(ref masks, row + t);
            }

            sum += leaves[leafStart[t] + BitOperations.TrailingZeroCount(possible)];
        }

        return sum;
    }

    private double SparseSum(ReadOnlySpan<double> features, double start)
    {
        Span<int> codes = stackalloc int[_thresholds.Length];
        for (var f = 0; f < codes.Length; f++)
        {
            codes[f] = Code(_thresholds[f], features[f]);
        }

        var sum = start;
        var masks = _masks;
        var entryFeature = _entryFeature!;
        var entryOffset = _entryOffset!;
        var treeStart = _treeStart!;
        var leaves = _leafValues;
        var leafStart = _leafStart;
        for (var t = 0; t < leafStart.Length - 1; t++)
        {
            var possible = ulong.MaxValue;
            for (var e = treeStart[t]; e < treeStart[t + 1]; e++)
            {
                possible &= masks[entryOffset[e] + codes[entryFeature[e]]];
            }

            sum += leaves[leafStart[t] + BitOperations.TrailingZeroCount(possible)];
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
