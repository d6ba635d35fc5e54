using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Explanation;

/// <summary>
/// Exact path-dependent TreeSHAP (Lundberg, Erion, Lee: "Consistent individualized feature attribution for tree
/// ensembles", 2018, algorithm 2), as in the shap package's tree_shap.h: one pass over the tree keeps, for the
/// unique features on the current path, the share of all feature subsets that reach it, so a tree costs
/// O(leaves · depth²) instead of 2^features. Missing values (NaN) follow the tree's own rule (left).
/// Expectations use the node cover (training weight), so they are the tree's mean output over its training rows.
/// </summary>
public static class TreeShap
{
    // Path workspace per thread: (depth + 2)(depth + 3)/2 elements for the nested copies of the path.
    [ThreadStatic]
    private static Workspace? t_workspace;

    /// <summary>The tree's expected output: leaf values weighted by cover.</summary>
    public static double ExpectedValue(FlatTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var cover = tree.Cover ?? throw new InvalidOperationException("The tree has no node cover.");
        return Expected(tree.Nodes, cover, 0);
    }

    private static double Expected(TreeNode[] nodes, double[] cover, int node)
    {
        var n = nodes[node];
        if (n.IsLeaf)
        {
            return n.Value;
        }

        double left = cover[n.Child], right = cover[n.Child + 1], total = left + right;
        return total > 0
            ? ((left * Expected(nodes, cover, n.Child)) + (right * Expected(nodes, cover, n.Child + 1))) / total
            : 0.5 * (Expected(nodes, cover, n.Child) + Expected(nodes, cover, n.Child + 1));
    }

    /// <summary>Adds <paramref name="scale"/> × the tree's SHAP values for <paramref name="features"/> to <paramref name="phi"/>.</summary>
    public static void Add(FlatTree tree, ReadOnlySpan<double> features, Span<double> phi, double scale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var cover = tree.Cover ?? throw new InvalidOperationException("The tree has no node cover.");
        if (tree.Nodes[0].IsLeaf)
        {
            return; // a stump with no split explains nothing: its value is all base
        }

        var size = (tree.Depth + 2) * (tree.Depth + 3) / 2;
        var w = t_workspace;
        if (w is null || w.Feature.Length < size)
        {
            t_workspace = w = new Workspace(Math.Max(size, 64));
        }

        Recurse(tree.Nodes, cover, features, phi, scale, w, 0, 0, 0, 1, 1, -1);
    }

    private sealed class Workspace(int size)
    {
        public readonly int[] Feature = new int[size];
        public readonly double[] Zero = new double[size];
        public readonly double[] One = new double[size];
        public readonly double[] Weight = new double[size];
    }

    // parentStart: where the parent's path starts in the workspace; depth: the number of unique features so far.
    private static void Recurse(
        TreeNode[] nodes, double[] cover, ReadOnlySpan<double> x, Span<double> phi, double scale, Workspace w,
        int node, int parentStart, int depth, double parentZero, double parentOne, int parentFeature)
    {
        // This node's path is a copy of the parent's, extended by the split that led here.
        var start = parentStart + depth + 1;
        Array.Copy(w.Feature, parentStart, w.Feature, start, depth);
        Array.Copy(w.Zero, parentStart, w.Zero, start, depth);
        Array.Copy(w.One, parentStart, w.One, start, depth);
        Array.Copy(w.Weight, parentStart, w.Weight, start, depth);
        Extend(w, start, depth, parentZero, parentOne, parentFeature);

        var n = nodes[node];
        if (n.IsLeaf)
        {
            var value = n.Value * scale;
            for (var i = 1; i <= depth; i++)
            {
                var weight = UnwoundSum(w, start, depth, i);
                phi[w.Feature[start + i]] += weight * (w.One[start + i] - w.Zero[start + i]) * value;
            }

            return;
        }

        var goRight = x[n.Feature] > n.Threshold; // NaN goes left, as in FlatTree.Predict
        var hot = n.Child + (goRight ? 1 : 0);
        var cold = n.Child + (goRight ? 0 : 1);
        var total = cover[node];
        var hotZero = total > 0 ? cover[hot] / total : 0.5;
        var coldZero = total > 0 ? cover[cold] / total : 0.5;
        double incomingZero = 1, incomingOne = 1;

        // A feature already on the path: undo its earlier split so this one is merged into it.
        var index = 0;
        while (index <= depth && w.Feature[start + index] != n.Feature)
        {
            index++;
        }

        if (index <= depth)
        {
            incomingZero = w.Zero[start + index];
            incomingOne = w.One[start + index];
            Unwind(w, start, depth, index);
            depth--;
        }

        Recurse(nodes, cover, x, phi, scale, w, hot, start, depth + 1, hotZero * incomingZero, incomingOne, n.Feature);
        Recurse(nodes, cover, x, phi, scale, w, cold, start, depth + 1, coldZero * incomingZero, 0, n.Feature);
    }

    private static void Extend(Workspace w, int start, int depth, double zero, double one, int feature)
    {
        var weights = w.Weight;
        w.Feature[start + depth] = feature;
        w.Zero[start + depth] = zero;
        w.One[start + depth] = one;
        weights[start + depth] = depth == 0 ? 1 : 0;
        var inverse = 1.0 / (depth + 1);
        for (var i = depth - 1; i >= 0; i--)
        {
            weights[start + i + 1] += one * weights[start + i] * (i + 1) * inverse;
            weights[start + i] = zero * weights[start + i] * (depth - i) * inverse;
        }
    }

    private static void Unwind(Workspace w, int start, int depth, int index)
    {
        var weights = w.Weight;
        var one = w.One[start + index];
        var zero = w.Zero[start + index];
        var next = weights[start + depth];
        for (var i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                var previous = weights[start + i];
                weights[start + i] = next * (depth + 1) / ((i + 1) * one);
                next = previous - (weights[start + i] * zero * (depth - i) / (depth + 1));
            }
            else
            {
                weights[start + i] = weights[start + i] * (depth + 1) / (zero * (depth - i));
            }
        }

        for (var i = index; i < depth; i++)
        {
            w.Feature[start + i] = w.Feature[start + i + 1];
            w.Zero[start + i] = w.Zero[start + i + 1];
            w.One[start + i] = w.One[start + i + 1];
        }
    }

    // The total weight of the path with element `index` unwound, without changing the path.
    private static double UnwoundSum(Workspace w, int start, int depth, int index)
    {
        var weights = w.Weight;
        var one = w.One[start + index];
        var zero = w.Zero[start + index];
        var next = weights[start + depth];
        double total = 0;
        if (one != 0)
        {
            for (var i = depth - 1; i >= 0; i--)
            {
                var share = next / ((i + 1) * one);
                total += share;
                next = weights[start + i] - (share * zero * (depth - i));
            }
        }
        else if (zero != 0)
        {
            for (var i = depth - 1; i >= 0; i--)
            {
                total += weights[start + i] / (zero * (depth - i));
            }
        }

        return total * (depth + 1);
    }
}
