using System.Runtime.CompilerServices;
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

    // Trees explained one at a time through Add, prepared once each (as long as the tree lives): a small table budget
    // per tree, since a model may hold hundreds. Models explain through one TreeShapEnsemble of all their trees.
    private static readonly ConditionalWeakTable<FlatTree, TreeShapEnsemble> Prepared = [];
    private const long TableBudgetPerTree = 1 << 13;

    /// <summary>
    /// Adds <paramref name="scale"/> × the tree's SHAP values for <paramref name="features"/> to <paramref name="phi"/>,
    /// with the tree prepared once (see <see cref="TreeShapEnsemble"/>; same values as <see cref="AddRecursive"/> up to
    /// rounding). To explain a whole ensemble, one <see cref="TreeShapEnsemble"/> of all its trees is faster still.
    /// </summary>
    public static void Add(FlatTree tree, ReadOnlySpan<double> features, Span<double> phi, double scale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(tree);
        if (tree.Cover is null)
        {
            throw new InvalidOperationException("The tree has no node cover.");
        }

        if (tree.Nodes[0].IsLeaf)
        {
            return;
        }

        var prepared = Prepared.GetValue(tree, t => new TreeShapEnsemble([t], t.Nodes.Max(n => n.Feature) + 1, tableBudget: TableBudgetPerTree));
        if (scale == 1.0)
        {
            prepared.Add(features, phi);
            return;
        }

        Span<double> own = prepared.FeatureCount <= 256 ? stackalloc double[prepared.FeatureCount] : new double[prepared.FeatureCount];
        own.Clear();
        prepared.Add(features, own);
        for (var f = 0; f < own.Length; f++)
        {
            phi[f] += scale * own[f];
        }
    }

    /// <summary>
    /// The recursive algorithm itself (the reference the prepared one is tested against): adds <paramref name="scale"/>
    /// × the tree's SHAP values for <paramref name="features"/> to <paramref name="phi"/>.
    /// </summary>
    public static void AddRecursive(FlatTree tree, ReadOnlySpan<double> features, Span<double> phi, double scale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var cover = tree.Cover ?? throw new InvalidOperationException("The tree has no node cover.");
        if (tree.Nodes[0].IsLeaf)
        {
            return; // a tree with no split explains nothing: its value is all base
        }

        var size = (tree.Depth + 2) * (tree.Depth + 3) / 2;
        var w = t_workspace;
        if (w is null || w.Path.Length < size || w.Inverse.Length < tree.Depth + 3)
        {
            t_workspace = w = new Workspace(Math.Max(size, 256), Math.Max(tree.Depth + 3, 64));
        }

        var context = new Context(tree.Nodes, cover, w.Path, w.Inverse, scale);
        Recurse(ref context, features, phi, 0, 0, 0, 1, 1, -1);
    }

    // One unique feature on the current path: the share of subsets that reach here without it (Zero, the cover
    // ratio) and with it (One: 1 if the row follows this way, else 0), and the path's subset-size weight.
    private struct PathElement
    {
        public int Feature;
        public double Zero;
        public double One;
        public double Weight;
    }

    private sealed class Workspace
    {
        public Workspace(int size, int inverses)
        {
            Path = new PathElement[size];
            Inverse = new double[inverses];
            for (var i = 1; i < inverses; i++)
            {
                Inverse[i] = 1.0 / i;
            }
        }

        public PathElement[] Path { get; }

        /// <summary>1/i: the hot loops multiply instead of dividing.</summary>
        public double[] Inverse { get; }
    }

    private readonly ref struct Context(TreeNode[] nodes, double[] cover, PathElement[] path, double[] inverse, double scale)
    {
        public readonly TreeNode[] Nodes = nodes;
        public readonly double[] Cover = cover;
        public readonly PathElement[] Path = path;
        public readonly double[] Inverse = inverse;
        public readonly double Scale = scale;
    }

    // parentStart: where the parent's path starts in the workspace; depth: the number of unique features so far.
    private static void Recurse(
        ref Context c, ReadOnlySpan<double> x, Span<double> phi, int node, int parentStart, int depth, double parentZero, double parentOne, int parentFeature)
    {
        // This node's path is a copy of the parent's, extended by the split that led here.
        var start = parentStart + depth + 1;
        var path = c.Path.AsSpan(start, depth + 1);
        c.Path.AsSpan(parentStart, depth).CopyTo(path);
        Extend(path, c.Inverse, depth, parentZero, parentOne, parentFeature);

        var n = c.Nodes[node];
        if (n.IsLeaf)
        {
            var value = n.Value * c.Scale;
            for (var i = 1; i <= depth; i++)
            {
                ref readonly var element = ref path[i];
                phi[element.Feature] += UnwoundSum(path, c.Inverse, depth, i) * (element.One - element.Zero) * value;
            }

            return;
        }

        var goRight = x[n.Feature] > n.Threshold; // NaN goes left, as in FlatTree.Predict
        var hot = n.Child + (goRight ? 1 : 0);
        var cold = n.Child + (goRight ? 0 : 1);
        var total = c.Cover[node];
        var hotZero = total > 0 ? c.Cover[hot] / total : 0.5;
        var coldZero = total > 0 ? c.Cover[cold] / total : 0.5;
        double incomingZero = 1, incomingOne = 1;

        // A feature already on the path: undo its earlier split so this one is merged into it.
        var index = 0;
        while (index <= depth && path[index].Feature != n.Feature)
        {
            index++;
        }

        if (index <= depth)
        {
            incomingZero = path[index].Zero;
            incomingOne = path[index].One;
            Unwind(path, c.Inverse, depth, index);
            depth--;
        }

        Recurse(ref c, x, phi, hot, start, depth + 1, hotZero * incomingZero, incomingOne, n.Feature);
        Recurse(ref c, x, phi, cold, start, depth + 1, coldZero * incomingZero, 0, n.Feature);
    }

    private static void Extend(Span<PathElement> path, double[] inverse, int depth, double zero, double one, int feature)
    {
        path[depth] = new PathElement { Feature = feature, Zero = zero, One = one, Weight = depth == 0 ? 1 : 0 };
        var scale = inverse[depth + 1];
        for (var i = depth - 1; i >= 0; i--)
        {
            path[i + 1].Weight += one * path[i].Weight * (i + 1) * scale;
            path[i].Weight = zero * path[i].Weight * (depth - i) * scale;
        }
    }

    private static void Unwind(Span<PathElement> path, double[] inverse, int depth, int index)
    {
        var one = path[index].One;
        var zero = path[index].Zero;
        var next = path[depth].Weight;
        if (one != 0)
        {
            var inverseOne = 1.0 / one;
            var last = inverse[depth + 1];
            for (var i = depth - 1; i >= 0; i--)
            {
                var previous = path[i].Weight;
                path[i].Weight = next * (depth + 1) * inverse[i + 1] * inverseOne;
                next = previous - (path[i].Weight * zero * (depth - i) * last);
            }
        }
        else
        {
            var inverseZero = 1.0 / zero;
            for (var i = depth - 1; i >= 0; i--)
            {
                path[i].Weight = path[i].Weight * (depth + 1) * inverse[depth - i] * inverseZero;
            }
        }

        for (var i = index; i < depth; i++)
        {
            var weight = path[i].Weight;
            path[i] = path[i + 1];
            path[i].Weight = weight;
        }
    }

    // The total weight of the path with element `index` unwound, without changing the path.
    private static double UnwoundSum(Span<PathElement> path, double[] inverse, int depth, int index)
    {
        var one = path[index].One;
        var zero = path[index].Zero;
        double total = 0;
        if (one != 0)
        {
            var next = path[depth].Weight;
            var inverseOne = 1.0 / one;
            for (var i = depth - 1; i >= 0; i--)
            {
                var share = next * inverse[i + 1] * inverseOne;
                total += share;
                next = path[i].Weight - (share * zero * (depth - i));
            }
        }
        else if (zero != 0)
        {
            for (var i = depth - 1; i >= 0; i--)
            {
                total += path[i].Weight * inverse[depth - i];
            }

            total /= zero;
        }

        return total * (depth + 1);
    }
}
