using System.Numerics;
using System.Runtime.Intrinsics;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Explanation;

/// <summary>Preparing the trees (once per model): each leaf's path, its conditions as codes, and its table.</summary>
public sealed partial class TreeShapEnsemble
{
    // The interval (Low, High] as codes: with t the feature's sorted distinct thresholds, x's code is #{j : x > t_j}, so
    // x > t_j ⟺ code ≥ j + 1 and x ≤ t_j ⟺ code ≤ j; the condition is First ≤ code ≤ First + Width.
    private Condition ToCondition(Step step)
    {
        var t = _thresholds[step.Feature];
        var first = double.IsNaN(step.Low) ? 0 : Array.BinarySearch(t, step.Low) + 1;
        var last = double.IsPositiveInfinity(step.High) ? t.Length : Array.BinarySearch(t, step.High);
        return last >= first
            ? new Condition(step.Feature, first, last - first, step.Ratio)
            : new Condition(step.Feature, t.Length + 1, 0, step.Ratio); // an empty interval (a leaf no row reaches): never met
    }

    // v · g(B) for every subset B of the path's conditions (bit e = condition e); B = all is never looked up.
    private static double[] Table(Condition[] path, double value, double[] weights, ref double[] scratch)
    {
        var k = path.Length;
        var size = 1 << k;
        var table = new double[size];
        if (scratch.Length < size * (k + 1))
        {
            scratch = new double[size * (k + 1)];
        }

        var polynomials = scratch; // e_m(r over B) at [B·(k+1) + m], m ≤ |B|: each written before it is read
        polynomials[0] = 1;
        for (var set = 1; set < size; set++)
        {
            var top = 31 - BitOperations.LeadingZeroCount((uint)set);
            var from = (set ^ (1 << top)) * (k + 1);
            var to = set * (k + 1);
            var members = BitOperations.PopCount((uint)set);
            var r = path[top].Ratio;
            polynomials[to] = 1;
            for (var m = 1; m < members; m++)
            {
                polynomials[to + m] = polynomials[from + m] + (r * polynomials[from + m - 1]);
            }

            polynomials[to + members] = r * polynomials[from + members - 1]; // e_members(B without top) = 0
        }

        for (var set = 0; set < size - 1; set++)
        {
            var members = BitOperations.PopCount((uint)set);
            var g = 0.0;
            for (var s = 0; s <= members; s++)
            {
                g += weights[s] * polynomials[(set * (k + 1)) + members - s];
            }

            table[set] = value * g;
        }

        return table;
    }

    // Each run of Vector256<double>.Count consecutive tabled leaves becomes a group, its conditions laid out lane by lane;
    // a lane's path shorter than the longest is padded with conditions every code meets. Leaves keep the trees' order
    // (a tree's leaves share features, which batches need), so a group's paths may differ in length.
    private static (LeafGroup[] Groups, LaneCondition[] Conditions) Group(Leaf[] leaves, Condition[] conditions)
    {
        const int lanes = 4;
        var always = new Condition(0, 0, -1, 1); // width uint.MaxValue: met by every code
        var groups = new List<LeafGroup>();
        var laneConditions = new List<LaneCondition>();
        for (var l = 0; l + lanes <= leaves.Length;)
        {
            if (Enumerable.Range(l, lanes).Any(i => leaves[i].Table < 0))
            {
                l++;
                continue;
            }

            var members = leaves.AsSpan(l, lanes).ToArray();
            var k = members.Max(m => m.Count);
            groups.Add(new LeafGroup(l, laneConditions.Count, k, Vector128.Create([.. members.Select(m => m.Table)]), Vector128.Create([.. members.Select(m => (1 << m.Count) - 1)])));
            for (var e = 0; e < k; e++)
            {
                var c = members.Select(m => e < m.Count ? conditions[m.Start + e] : always).ToArray();
                laneConditions.Add(new LaneCondition(
                    Vector128.Create([.. c.Select(x => x.Feature)]),
                    Vector128.Create([.. c.Select(x => x.First)]),
                    Vector128.Create([.. c.Select(x => x.Width)]),
                    Vector256.Create([.. c.Select(x => x.Ratio)]),
                    Vector256.Create([.. c.Select(x => x.OneMinusRatio)])));
            }

            l += lanes;
        }

        return ([.. groups], [.. laneConditions]);
    }

    // Depth-first over one tree: at each leaf, its path's distinct features with their merged interval and cover ratio.
    private static void Collect(TreeNode[] nodes, double[] cover, int node, Step[] path, double scale, List<Step[]> paths, List<Leaf> leaves)
    {
        var n = nodes[node];
        if (n.IsLeaf)
        {
            var value = n.Value * scale;
            if (path.Length > 0 && value != 0)
            {
                paths.Add(path);
                leaves.Add(new Leaf(value, 0, 0, -1));
            }

            return;
        }

        var total = cover[node];
        for (var side = 0; side < 2; side++)
        {
            var child = n.Child + side;
            var ratio = total > 0 ? cover[child] / total : 0.5; // as TreeShap: an empty node splits evenly
            var index = Array.FindIndex(path, c => c.Feature == n.Feature);
            var merged = index >= 0 ? path[index] : new Step(double.NaN, double.PositiveInfinity, 1, n.Feature);
            merged = side == 0
                ? merged with { High = Math.Min(merged.High, n.Threshold), Ratio = merged.Ratio * ratio }
                : merged with { Low = double.IsNaN(merged.Low) ? n.Threshold : Math.Max(merged.Low, n.Threshold), Ratio = merged.Ratio * ratio };
            Step[] next = index >= 0 ? [.. path] : [.. path, merged];
            next[index >= 0 ? index : path.Length] = merged;
            Collect(nodes, cover, child, next, scale, paths, leaves);
        }
    }

    private static double Binomial(int n, int k)
    {
        var result = 1.0;
        for (var i = 1; i <= k; i++)
        {
            result = result * (n - k + i) / i;
        }

        return result;
    }

    // A path's splits on one feature, merged: the row follows them all when Low < x ≤ High (Low NaN: no right turn).
    private readonly record struct Step(double Low, double High, double Ratio, int Feature);
}
