using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// Trees re-encoded for fast batch scoring. Each feature's split thresholds (at most 254, as the binner makes them)
/// are numbered; a row is turned once into one byte per feature (how many of that feature's thresholds it exceeds),
/// and then every tree compares bytes instead of doubles: a block of rows fits in L1 cache. Going right at
/// threshold k ⟺ x &gt; t_k ⟺ byte &gt; k. NaN exceeds no threshold, so it goes left as in <see cref="FlatTree"/>.
/// Leaves point to themselves with an unreachable byte (255), so four rows walk a tree in lock-step with no branches.
/// </summary>
internal sealed class QuantizedTrees
{
    private const byte Never = 255;
    private readonly double[][] _thresholds;
    private readonly QuantizedNode[][] _nodes;
    private readonly double[][] _values;
    private readonly int[] _depth;

    // 8 bytes: eight nodes per cache line.
    private readonly record struct QuantizedNode(int Child, ushort Feature, byte Bin);

    private QuantizedTrees(double[][] thresholds, QuantizedNode[][] nodes, double[][] values, int[] depth)
    {
        _thresholds = thresholds;
        _nodes = nodes;
        _values = values;
        _depth = depth;
    }

    public int FeatureCount => _thresholds.Length;

    /// <summary>Null when a feature has more distinct thresholds than a byte can number.</summary>
    public static QuantizedTrees? TryCreate(IReadOnlyList<FlatTree> trees, int featureCount)
    {
        var thresholds = FlatTree.SplitThresholds(trees, featureCount);
        if (thresholds.Any(t => t.Length >= Never))
        {
            return null;
        }

        var nodes = new QuantizedNode[trees.Count][];
        var values = new double[trees.Count][];
        var depths = new int[trees.Count];
        for (var t = 0; t < trees.Count; t++)
        {
            var source = trees[t].Nodes;
            nodes[t] = new QuantizedNode[source.Length];
            values[t] = new double[source.Length];
            var depth = new int[source.Length];
            for (var i = 0; i < source.Length; i++)
            {
                var node = source[i];
                if (node.IsLeaf)
                {
                    nodes[t][i] = new QuantizedNode(i, 0, Never);
                    values[t][i] = node.Value;
                    depths[t] = Math.Max(depths[t], depth[i]);
                }
                else
                {
                    nodes[t][i] = new QuantizedNode(node.Child, (ushort)node.Feature, (byte)Array.BinarySearch(thresholds[node.Feature], node.Threshold));
                    depth[node.Child] = depth[i] + 1;
                    depth[node.Child + 1] = depth[i] + 1;
                }
            }
        }

        return new QuantizedTrees(thresholds, nodes, values, depths);
    }

    /// <summary>Encodes rows [start, end) of a row-major matrix into <paramref name="codes"/> (one byte per feature).</summary>
    public void Encode(double[] features, int start, int end, byte[] codes)
    {
        var columns = _thresholds.Length;
        for (var r = start; r < end; r++)
        {
            var row = features.AsSpan(r * columns, columns);
            var target = codes.AsSpan((r - start) * columns, columns);
            for (var f = 0; f < columns; f++)
            {
                var thresholds = _thresholds[f];
                var x = row[f];
                if (thresholds.Length <= 8)
                {
                    // Few thresholds (this data set: at most two): counting beats a binary search. NaN counts none.
                    var count = 0;
                    foreach (var t in thresholds)
                    {
                        count += x > t ? 1 : 0;
                    }

                    target[f] = (byte)count;
                }
                else
                {
                    var index = Array.BinarySearch(thresholds, x); // NaN sorts first: index ~0 → 0
                    target[f] = (byte)(index >= 0 ? index : ~index);
                }
            }
        }
    }

    /// <summary>Adds tree <paramref name="tree"/>'s output for <paramref name="count"/> encoded rows to output[offset..].</summary>
    public void AddTo(int tree, byte[] codes, int count, double[] output, int offset)
    {
        var columns = _thresholds.Length;
        var depth = _depth[tree];
        var leafValues = _values[tree];
        ref var node0 = ref MemoryMarshal.GetArrayDataReference(_nodes[tree]);
        ref var code0 = ref MemoryMarshal.GetArrayDataReference(codes);
        var r = 0;
        for (; r + 8 <= count; r += 8)
        {
            int a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
            ref var ca = ref Unsafe.Add(ref code0, r * columns);
            ref var cb = ref Unsafe.Add(ref ca, columns);
            ref var cc = ref Unsafe.Add(ref cb, columns);
            ref var cd = ref Unsafe.Add(ref cc, columns);
            ref var ce = ref Unsafe.Add(ref cd, columns);
            ref var cf = ref Unsafe.Add(ref ce, columns);
            ref var cg = ref Unsafe.Add(ref cf, columns);
            ref var ch = ref Unsafe.Add(ref cg, columns);
            for (var step = 0; step < depth; step++)
            {
                ref readonly var na = ref Unsafe.Add(ref node0, a);
                ref readonly var nb = ref Unsafe.Add(ref node0, b);
                ref readonly var nc = ref Unsafe.Add(ref node0, c);
                ref readonly var nd = ref Unsafe.Add(ref node0, d);
                ref readonly var ne = ref Unsafe.Add(ref node0, e);
                ref readonly var nf = ref Unsafe.Add(ref node0, f);
                ref readonly var ng = ref Unsafe.Add(ref node0, g);
                ref readonly var nh = ref Unsafe.Add(ref node0, h);
                a = na.Child + (Unsafe.Add(ref ca, na.Feature) > na.Bin ? 1 : 0);
                b = nb.Child + (Unsafe.Add(ref cb, nb.Feature) > nb.Bin ? 1 : 0);
                c = nc.Child + (Unsafe.Add(ref cc, nc.Feature) > nc.Bin ? 1 : 0);
                d = nd.Child + (Unsafe.Add(ref cd, nd.Feature) > nd.Bin ? 1 : 0);
                e = ne.Child + (Unsafe.Add(ref ce, ne.Feature) > ne.Bin ? 1 : 0);
                f = nf.Child + (Unsafe.Add(ref cf, nf.Feature) > nf.Bin ? 1 : 0);
                g = ng.Child + (Unsafe.Add(ref cg, ng.Feature) > ng.Bin ? 1 : 0);
                h = nh.Child + (Unsafe.Add(ref ch, nh.Feature) > nh.Bin ? 1 : 0);
            }

            output[offset + r] += leafValues[a];
            output[offset + r + 1] += leafValues[b];
            output[offset + r + 2] += leafValues[c];
            output[offset + r + 3] += leafValues[d];
            output[offset + r + 4] += leafValues[e];
            output[offset + r + 5] += leafValues[f];
            output[offset + r + 6] += leafValues[g];
            output[offset + r + 7] += leafValues[h];
        }

        for (; r < count; r++)
        {
            var i = 0;
            ref var row = ref Unsafe.Add(ref code0, r * columns);
            for (var step = 0; step < depth; step++)
            {
                ref readonly var n = ref Unsafe.Add(ref node0, i);
                i = n.Child + (Unsafe.Add(ref row, n.Feature) > n.Bin ? 1 : 0);
            }

            output[offset + r] += leafValues[i];
        }
    }
}
