using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

/// <summary>Reference Shapley values for tree tests, by enumerating every feature subset.</summary>
internal static class BruteForce
{
    /// <summary>Shapley values of the path-dependent value function v(S) = E[f(x) | x_S] by enumerating every subset.</summary>
    public static double[] Shapley(FlatTree tree, double[] x)
    {
        var m = x.Length;
        var phi = new double[m];
        var factorial = new double[m + 1];
        factorial[0] = 1;
        for (var i = 1; i <= m; i++)
        {
            factorial[i] = factorial[i - 1] * i;
        }

        for (var j = 0; j < m; j++)
        {
            for (var set = 0; set < 1 << m; set++)
            {
                if ((set & (1 << j)) != 0)
                {
                    continue;
                }

                var size = System.Numerics.BitOperations.PopCount((uint)set);
                var weight = factorial[size] * factorial[m - size - 1] / factorial[m];
                phi[j] += weight * (Conditional(tree, x, set | (1 << j), 0) - Conditional(tree, x, set, 0));
            }
        }

        return phi;
    }

    private static double Conditional(FlatTree tree, double[] x, int known, int node)
    {
        var n = tree.Nodes[node];
        if (n.IsLeaf)
        {
            return n.Value;
        }

        if ((known & (1 << n.Feature)) != 0)
        {
            return Conditional(tree, x, known, n.Child + (x[n.Feature] > n.Threshold ? 1 : 0));
        }

        var cover = tree.Cover!;
        var left = cover[n.Child];
        var right = cover[n.Child + 1];
        return ((left * Conditional(tree, x, known, n.Child)) + (right * Conditional(tree, x, known, n.Child + 1))) / (left + right);
    }
}
