namespace NetworkSecurity.Learning.Trees;

/// <summary>Limits on a grown tree.</summary>
internal sealed record TreeLimits(int MaxDepth, int MaxLeaves, int MinSamplesLeaf, int MinSamplesSplit, int MaxFeatures);

/// <summary>
/// Grows one tree on the distinct rows of a binned data set by histogram split finding, best leaf first. With only a depth limit this gives the
/// same tree as depth-wise growth; with a leaf limit it is LightGBM's leaf-wise growth. The smaller child's histogram
/// is built, the larger one's is the parent's minus it. Deterministic: ties go to the lowest feature, then bin.
/// </summary>
internal sealed class TreeGrower(BinnedDataset data, SplitCriterion criterion, TreeLimits limits)
{
    private readonly int[] _allFeatures = Enumerable.Range(0, data.Columns).ToArray();
    private int[]? _counts;
    private int[] _treeFeatures = [];

    /// <summary>
    /// The grown tree (real thresholds), per node the bin threshold for walking binned rows, and per node its cover:
    /// the training weight that reached it (the B statistic: hessian for boosting, sample weight for classification
    /// trees, copies of merged rows included), which TreeSHAP needs.
    /// </summary>
    public sealed record Result(TreeNode[] Nodes, int[] BinThresholds, double[] Cover)
    {
        /// <summary>Leaf value for a distinct row of the binned data set.</summary>
        public double PredictDistinct(BinnedDataset data, int distinctRow)
        {
            var i = 0;
            var node = Nodes[0];
            var baseIndex = distinctRow * data.Columns;
            while (node.Feature >= 0)
            {
                i = node.Child + (data.Bins[baseIndex + node.Feature] > BinThresholds[i] ? 1 : 0);
                node = Nodes[i];
            }

            return node.Value;
        }
    }

    private sealed class Leaf
    {
        public int Node;
        public int Start;
        public int End;
        public int Depth;
        public double A;
        public double B;
        public Histogram? Histogram;
        public int Feature = -1;
        public int Bin;
        public double Gain;
        public double LeftA;
        public double LeftB;
        public long Rows;
        public long LeftRows;
    }

    /// <param name="rows">Distinct rows to train on; reordered in place (partitioned by leaf).</param>
    /// <param name="a">First statistic per distinct row, summed over its copies (gradient, or weight of class 1).</param>
    /// <param name="b">Second statistic per distinct row (hessian, or weight).</param>
    /// <param name="counts">Training rows behind each distinct row (for the minimum samples per leaf); null when the
    /// limits need no counts (min samples per leaf 1): each side then only needs some weight.</param>
    /// <param name="random">Feature sampling per split; null uses every feature.</param>
    /// <param name="treeFeatures">The features this tree may split on, in ascending order (XGBoost's
    /// colsample_bytree); null for all. Per-split sampling then draws from these.</param>
    public Result Grow(int[] rows, int count, double[] a, double[] b, int[]? counts, Random? random, int[]? treeFeatures = null)
    {
        if (counts is null && (limits.MinSamplesLeaf > 1 || limits.MinSamplesSplit > 2))
        {
            throw new ArgumentNullException(nameof(counts), "Row counts are needed for min_samples_leaf > 1 or min_samples_split > 2.");
        }

        _counts = counts;
        _treeFeatures = treeFeatures ?? _allFeatures;
        var nodes = new List<TreeNode> { default };
        var binThresholds = new List<int> { 0 };
        var cover = new List<double> { 0 };
        var scratch = new int[count];
        double totalA = 0, totalB = 0;
        long totalRows = 0;
        for (var i = 0; i < count; i++)
        {
            totalA += a[rows[i]];
            totalB += b[rows[i]];
            totalRows += counts?[rows[i]] ?? 1;
        }

        var root = new Leaf { Node = 0, Start = 0, End = count, Depth = 0, A = totalA, B = totalB, Rows = totalRows, Histogram = new Histogram(data.TotalBins) };
        root.Histogram.Build(data, rows, 0, count, a, b, counts);
        cover[0] = totalB;
        FindSplit(root, random);
        var open = new List<Leaf> { root };
        var leaves = 1;
        while (leaves < limits.MaxLeaves)
        {
            Leaf? best = null;
            foreach (var leaf in open)
            {
                if (leaf.Feature >= 0 && (best is null || leaf.Gain > best.Gain))
                {
                    best = leaf;
                }
            }

            if (best is null)
            {
                break;
            }

            open.Remove(best);
            var (left, right) = Split(best, rows, scratch, nodes, binThresholds, a, b);
            cover.Add(left.B);
            cover.Add(right.B);
            leaves++;
            FindSplit(left, random);
            FindSplit(right, random);
            open.Add(left);
            open.Add(right);
        }

        foreach (var leaf in open)
        {
            nodes[leaf.Node] = new TreeNode(criterion.LeafValue(leaf.A, leaf.B), -1, 0);
            leaf.Histogram = null;
        }

        return new Result([.. nodes], [.. binThresholds], [.. cover]);
    }

    private (Leaf Left, Leaf Right) Split(Leaf parent, int[] rows, int[] scratch, List<TreeNode> nodes, List<int> binThresholds, double[] a, double[] b)
    {
        // Stable partition of the parent's rows: bins ≤ split bin go left.
        var bins = data.Bins;
        var columns = data.Columns;
        var write = parent.Start;
        var spilled = 0;
        for (var i = parent.Start; i < parent.End; i++)
        {
            var row = rows[i];
            if (bins[(row * columns) + parent.Feature] <= parent.Bin)
            {
                rows[write++] = row;
            }
            else
            {
                scratch[spilled++] = row;
            }
        }

        Array.Copy(scratch, 0, rows, write, spilled);

        var child = nodes.Count;
        nodes[parent.Node] = new TreeNode(data.Threshold(parent.Feature, parent.Bin), parent.Feature, child);
        binThresholds[parent.Node] = parent.Bin;
        nodes.Add(default);
        nodes.Add(default);
        binThresholds.Add(0);
        binThresholds.Add(0);

        // Without counts, distinct rows stand in for rows (only "at least two" matters then).
        var leftRows = _counts is null ? write - parent.Start : parent.LeftRows;
        var left = new Leaf { Node = child, Start = parent.Start, End = write, Depth = parent.Depth + 1, A = parent.LeftA, B = parent.LeftB, Rows = leftRows };
        var right = new Leaf { Node = child + 1, Start = write, End = parent.End, Depth = parent.Depth + 1, A = parent.A - parent.LeftA, B = parent.B - parent.LeftB, Rows = parent.Rows - leftRows };
        if (CanSplit(left) || CanSplit(right))
        {
            var (small, large) = left.End - left.Start <= right.End - right.Start ? (left, right) : (right, left);
            small.Histogram = new Histogram(data.TotalBins);
            small.Histogram.Build(data, rows, small.Start, small.End, a, b, _counts);
            large.Histogram = parent.Histogram!; // reuse the parent's arrays for the larger child
            large.Histogram.Subtract(parent.Histogram!, small.Histogram);
        }

        parent.Histogram = null;
        return (left, right);
    }

    private bool CanSplit(Leaf leaf) =>
        leaf.Depth < limits.MaxDepth && leaf.End - leaf.Start >= 2 && leaf.Rows >= Math.Max(limits.MinSamplesSplit, 2 * limits.MinSamplesLeaf);

    /// <summary>True when at most one bin of the feature holds weight in this node: no split on it is possible.</summary>
    private bool IsConstant(Histogram histogram, int feature)
    {
        var offset = data.Offsets[feature];
        var used = 0;
        for (var bin = offset; bin < data.Offsets[feature + 1]; bin++)
        {
            used += histogram.Bins[bin].B > 0 ? 1 : 0;
        }

        return used <= 1;
    }

    private void FindSplit(Leaf leaf, Random? random)
    {
        leaf.Feature = -1;
        if (!CanSplit(leaf) || leaf.Histogram is null)
        {
            return;
        }

        var histogram = leaf.Histogram;
        var features = _treeFeatures;
        var featureCount = features.Length;
        if (random is not null && limits.MaxFeatures < features.Length)
        {
            // Sample features for this split (partial Fisher-Yates), then scan them in index order so ties stay deterministic.
            // As scikit-learn does, features constant within the node do not count towards the limit: drawing goes on
            // until that many features that can split were drawn (or none is left), so deep nodes of low-cardinality
            // data are not turned into leaves just because the draw missed every feature that still varies there.
            features = (int[])features.Clone();
            featureCount = 0;
            for (var i = 0; i < features.Length && featureCount < limits.MaxFeatures; i++)
            {
                var j = i + random.Next(features.Length - i);
                (features[i], features[j]) = (features[j], features[i]);
                if (!IsConstant(histogram, features[i]))
                {
                    (features[featureCount], features[i]) = (features[i], features[featureCount]);
                    featureCount++;
                }
            }

            Array.Sort(features, 0, featureCount);
        }

        var bestGain = 1e-12;
        var minB = criterion.MinB;
        var minLeaf = _counts is null ? 0 : limits.MinSamplesLeaf;
        for (var k = 0; k < featureCount; k++)
        {
            var f = features[k];
            var offset = data.Offsets[f];
            var binCount = data.Offsets[f + 1] - offset;
            double leftA = 0, leftB = 0;
            long leftCount = 0;
            for (var bin = 0; bin < binCount - 1; bin++)
            {
                ref readonly var h = ref histogram.Bins[offset + bin];
                leftA += h.A;
                leftB += h.B;
                leftCount += h.Count;
                var rightCount = _counts is null ? long.MaxValue : leaf.Rows - leftCount;
                if (leftCount < minLeaf)
                {
                    continue;
                }

                if (rightCount < minLeaf)
                {
                    break;
                }

                var rightB = leaf.B - leftB;
                if (leftB < minB || rightB < minB)
                {
                    continue;
                }

                var gain = criterion.Gain(leftA, leftB, leaf.A - leftA, rightB, leaf.A, leaf.B);
                if (gain > bestGain)
                {
                    bestGain = gain;
                    leaf.Feature = f;
                    leaf.Bin = bin;
                    leaf.Gain = gain;
                    leaf.LeftA = leftA;
                    leaf.LeftB = leftB;
                    leaf.LeftRows = leftCount;
                }
            }
        }
    }
}
