using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Explanation;

/// <summary>
/// Exact path-dependent TreeSHAP for a sum of trees, prepared once per model so that explaining a row costs
/// O(Σ over leaves of the leaf path's unique features) instead of <see cref="TreeShap"/>'s O(leaves · depth²) per tree.
/// </summary>
/// <remarks>
/// Path-dependent TreeSHAP is the sum over leaves of the Shapley values of one product game per leaf (the idea behind
/// Fast TreeSHAP, Yang 2021): with U the k distinct features split on the way to a leaf of value v, r_j the product of
/// the cover ratios of the splits on j and A ⊆ U the features whose every split the row follows, feature i gets
/// <c>v (1 − r_i) g(A∖{i}) R</c> when i ∈ A and <c>−v g(A) R</c> when i ∉ A, where R = Π_{j∈U∖A} r_j and
/// g(B) = Σ_{S⊆B} |S|!(k−1−|S|)!/k! · Π_{j∈B∖S} r_j depends on the leaf and B, never on the row. For paths of at most
/// <c>maxTableBits</c> features v·g is tabled for every subset (2^k values), so a leaf costs O(k) lookups per row
/// (Fast TreeSHAP v2); longer paths (or past the table budget) compute g from the elementary symmetric polynomials
/// of the r_j in O(|A|²) (tables go to the shortest paths first). A leaf's splits on one feature merge into one
/// interval (lo, hi], and a row's value becomes the number of the feature's thresholds it exceeds (NaN: none, so it
/// goes left, as in scoring), so a condition is one integer compare and nothing branches on the row. Batches go leaf
/// by leaf over blocks of rows, which keeps each leaf's table in cache, and a tabled leaf takes four rows at once (one
/// per SIMD lane, with the scalar arithmetic in the same order, so a batch gives the bits a single row gets); fewer rows
/// than lanes fill them with four consecutive tabled leaves instead. Immutable and thread-safe once built.
/// </remarks>
public sealed partial class TreeShapEnsemble
{
    /// <summary>Paths of up to this many distinct features get a table (2^k doubles: 32 KB at 12).</summary>
    public const int DefaultMaxTableBits = 12;

    /// <summary>At most this many table doubles per model (32 MB); leaves past it compute instead.</summary>
    public const long DefaultTableBudget = 1L << 22;

    // Rows explained together, leaf by leaf: their codes (int) and contributions (double) stay in the L1 cache.
    private const int BlockRows = 64;

    private readonly Leaf[] _leaves;
    private readonly Condition[] _conditions;

    // Per feature, its distinct split thresholds, ascending: a row's value becomes an interval index (its code).
    private readonly double[][] _thresholds;
    private readonly double[] _tables;

    // Groups of four consecutive tabled leaves, for explaining one row four leaves at a time.
    private readonly LeafGroup[] _groups;
    private readonly LaneCondition[] _laneConditions;

    // _weights[k][s] = s!(k−1−s)!/k!: the Shapley weight of a coalition of s among k players, for one of the others.
    private readonly double[][] _weights;
    private readonly int _longestPath;

    /// <param name="trees">The trees whose outputs add up to the model's raw output; every tree needs its cover.</param>
    /// <param name="featureCount">The model's feature count (rows and contributions are at least this long).</param>
    /// <param name="scale">Multiplies every leaf (e.g. 1/trees for a forest's mean).</param>
    public TreeShapEnsemble(IReadOnlyList<FlatTree> trees, int featureCount, double scale = 1.0, int maxTableBits = DefaultMaxTableBits, long tableBudget = DefaultTableBudget)
    {
        ArgumentNullException.ThrowIfNull(trees);
        ArgumentOutOfRangeException.ThrowIfNegative(featureCount);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxTableBits, 24);
        FeatureCount = featureCount;
        var leaves = new List<Leaf>();
        var conditions = new List<Condition>();
        var paths = new List<Step[]>();
        var thresholds = new SortedSet<double>[featureCount];
        foreach (var tree in trees)
        {
            ArgumentNullException.ThrowIfNull(tree);
            var cover = tree.Cover ?? throw new InvalidOperationException("The tree has no node cover.");
            if (tree.Nodes.Any(n => n.Feature >= featureCount))
            {
                throw new ArgumentException($"A tree splits on a feature beyond the model's {featureCount}.", nameof(trees));
            }

            Collect(tree.Nodes, cover, 0, [], scale, paths, leaves);
            foreach (var n in tree.Nodes.Where(n => !n.IsLeaf))
            {
                (thresholds[n.Feature] ??= []).Add(n.Threshold);
            }
        }

        _thresholds = [.. thresholds.Select(t => t?.ToArray() ?? [])];

        _longestPath = paths.Count == 0 ? 0 : paths.Max(p => p.Length);
        _weights = new double[_longestPath + 1][];
        for (var k = 1; k <= _longestPath; k++)
        {
            _weights[k] = new double[k];
            for (var s = 0; s < k; s++)
            {
                _weights[k][s] = 1.0 / (k * Binomial(k - 1, s));
            }
        }

        _weights[0] = [];
        // Tables go to the shortest paths first: per double, they save the most leaves from computing.
        var leafArray = leaves.ToArray();
        var tabled = new bool[leafArray.Length];
        var budget = tableBudget;
        foreach (var l in Enumerable.Range(0, leafArray.Length).Where(l => paths[l].Length <= maxTableBits).OrderBy(l => paths[l].Length))
        {
            if ((1L << paths[l].Length) > budget)
            {
                break;
            }

            budget -= 1L << paths[l].Length;
            tabled[l] = true;
        }

        var tables = new List<double>();
        double[] scratch = [];
        for (var l = 0; l < leafArray.Length; l++)
        {
            var path = paths[l].Select(ToCondition).ToArray();
            leafArray[l] = leafArray[l] with { Start = conditions.Count, Count = path.Length, Table = tabled[l] ? tables.Count : -1 };
            conditions.AddRange(path);
            if (tabled[l])
            {
                tables.AddRange(Table(path, leafArray[l].Value, _weights[path.Length], ref scratch));
            }
        }

        _leaves = leafArray;
        _conditions = [.. conditions];
        _tables = [.. tables];
        (_groups, _laneConditions) = Group(_leaves, _conditions);
    }

    public int FeatureCount { get; }

    /// <summary>Leaves that contribute (non-zero value, at least one split above them).</summary>
    public int LeafCount => _leaves.Length;

    /// <summary>Leaves whose contributions are looked up in a table.</summary>
    public int TabledLeafCount => _leaves.Count(l => l.Table >= 0);

    /// <summary>Doubles held in tables.</summary>
    public int TableSize => _tables.Length;

    /// <summary>Adds the ensemble's SHAP values for <paramref name="features"/> to <paramref name="phi"/>.</summary>
    public void Add(ReadOnlySpan<double> features, Span<double> phi)
    {
        if (features.Length < FeatureCount || phi.Length < FeatureCount)
        {
            throw new ArgumentException($"Need {FeatureCount} features and room for {FeatureCount} contributions.");
        }

        AddRows(features[..FeatureCount], 1, FeatureCount, phi);
    }

    /// <summary>
    /// Adds the SHAP values of <paramref name="count"/> rows (row r's values at [r · stride, r · stride + FeatureCount)
    /// of <paramref name="rows"/>) to <paramref name="phi"/> (row r's at [r · FeatureCount, (r + 1) · FeatureCount)).
    /// Leaf by leaf over blocks of rows, so a leaf's conditions and table are fetched once per block, not once per row.
    /// </summary>
    public void AddRows(ReadOnlySpan<double> rows, int count, int stride, Span<double> phi)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, FeatureCount);
        if (count == 0)
        {
            return;
        }

        if (rows.Length < ((count - 1) * stride) + FeatureCount || phi.Length < count * FeatureCount)
        {
            throw new ArgumentException($"Need {count} rows of {FeatureCount} features and room for {count} × {FeatureCount} contributions.");
        }

        var width = FeatureCount;
        var blockRows = Math.Min(count, BlockRows);

        // Per block, codes and contributions are held feature-major (feature f of row r at f · blockRows + r), so one
        // condition's codes for consecutive rows, and one feature's contributions, are contiguous: a leaf then handles
        // Vector256<double>.Count rows at once. Each value becomes the number of the feature's thresholds it exceeds, so
        // a condition is one unsigned compare; NaN exceeds none (x > t is false), so it goes left, as in scoring.
        var cells = blockRows * width;
        Span<int> codes = cells <= 4096 ? stackalloc int[cells] : new int[cells];
        Span<double> sums = cells <= 2048 ? stackalloc double[cells] : new double[cells];
        Span<double> polynomial = _longestPath < 256 ? stackalloc double[_longestPath + 1] : new double[_longestPath + 1];
        Span<int> satisfied = _longestPath < 256 ? stackalloc int[_longestPath + 1] : new int[_longestPath + 1];
        Span<Vector256<double>> met = _longestPath < 256 ? stackalloc Vector256<double>[_longestPath + 1] : new Vector256<double>[_longestPath + 1];
        Span<Vector256<double>> added = _longestPath < 256 ? stackalloc Vector256<double>[_longestPath + 1] : new Vector256<double>[_longestPath + 1];
        for (var block = 0; block < count; block += BlockRows)
        {
            var n = Math.Min(BlockRows, count - block);
            for (var r = 0; r < n; r++)
            {
                var row = rows.Slice((block + r) * stride, width);
                for (var f = 0; f < width; f++)
                {
                    codes[(f * blockRows) + r] = Code(_thresholds[f], row[f]);
                }
            }

            sums.Clear();
            if (n < Vector256<double>.Count && Vector256.IsHardwareAccelerated)
            {
                // Too few rows to fill the lanes: fill them with leaves instead, row by row.
                for (var r = 0; r < n; r++)
                {
                    AddRowByLeafGroups(codes, blockRows, r, sums, met, added, polynomial, satisfied);
                }
            }
            else
            {
                AddBlock(codes, blockRows, n, sums, met, polynomial, satisfied);
            }

            var blockPhi = phi.Slice(block * width, n * width);
            for (var r = 0; r < n; r++)
            {
                for (var f = 0; f < width; f++)
                {
                    blockPhi[(r * width) + f] += sums[(f * blockRows) + r];
                }
            }
        }
    }

    // Leaf by leaf over the block's n rows; a tabled leaf takes Vector256<double>.Count rows at once.
    private void AddBlock(Span<int> codes, int blockRows, int n, Span<double> sums, Span<Vector256<double>> met, Span<double> polynomial, Span<int> satisfied)
    {
        ref var conditions = ref MemoryMarshal.GetArrayDataReference(_conditions);
        var tables = _tables;
        foreach (ref readonly var leaf in _leaves.AsSpan())
        {
            if (leaf.Table >= 0)
            {
                ref var first = ref Unsafe.Add(ref conditions, leaf.Start);
                var table = tables.AsSpan(leaf.Table, 1 << leaf.Count);
                var r = Vector256.IsHardwareAccelerated ? AddTabledVector(leaf, ref first, codes, blockRows, n, table, sums, met) : 0;
                for (; r < n; r++)
                {
                    AddTabled(leaf, ref first, ref codes[r], blockRows, table, ref sums[r]);
                }
            }
            else
            {
                var path = _conditions.AsSpan(leaf.Start, leaf.Count);
                for (var r = 0; r < n; r++)
                {
                    AddComputed(leaf, path, _weights[leaf.Count], ref codes[r], blockRows, ref sums[r], polynomial, satisfied);
                }
            }
        }
    }

    // One row (r of the block), the leaves in their order: each LeafGroup four at once, the others alone.
    private void AddRowByLeafGroups(Span<int> codes, int blockRows, int r, Span<double> sums, Span<Vector256<double>> met, Span<Vector256<double>> added, Span<double> polynomial, Span<int> satisfied)
    {
        ref var conditions = ref MemoryMarshal.GetArrayDataReference(_conditions);
        var group = 0;
        for (var l = 0; l < _leaves.Length;)
        {
            if (group < _groups.Length && _groups[group].FirstLeaf == l)
            {
                AddLeafGroup(_groups[group], codes, blockRows, r, sums, met, added);
                l += Vector256<double>.Count;
                group++;
                continue;
            }

            ref readonly var leaf = ref _leaves[l];
            if (leaf.Table >= 0)
            {
                AddTabled(leaf, ref Unsafe.Add(ref conditions, leaf.Start), ref codes[r], blockRows, _tables.AsSpan(leaf.Table, 1 << leaf.Count), ref sums[r]);
            }
            else
            {
                AddComputed(leaf, _conditions.AsSpan(leaf.Start, leaf.Count), _weights[leaf.Count], ref codes[r], blockRows, ref sums[r], polynomial, satisfied);
            }

            l++;
        }
    }

    // AddTabled for the four leaves of a group and one row (lanes = leaves, same arithmetic, same order; a padding
    // condition multiplies R by exactly 1). Each leaf's contributions are then added leaf after leaf, as four AddTabled
    // calls would, so the sums get the same bits.
    private void AddLeafGroup(in LeafGroup group, ReadOnlySpan<int> codes, int stride, int r, Span<double> sums, Span<Vector256<double>> met, Span<Vector256<double>> added)
    {
        ref var c = ref _laneConditions[group.Start];
        var mask = Vector128<int>.Zero;
        var outside = Vector256<double>.One;
        var offset = Vector128.Create(r);
        var scale = Vector128.Create(stride);
        for (var e = 0; e < group.Count; e++)
        {
            ref readonly var lane = ref Unsafe.Add(ref c, e);
            var at = (lane.Feature * scale) + offset;
            var code = Vector128.Create(codes[at.GetElement(0)], codes[at.GetElement(1)], codes[at.GetElement(2)], codes[at.GetElement(3)]);
            var hit = Vector128.LessThanOrEqual((code - lane.First).AsUInt32(), lane.Width).AsInt32();
            mask |= hit & Vector128.Create(1 << e);
            var wide = Vector256.Create(Vector128.WidenLower(hit), Vector128.WidenUpper(hit)).AsDouble();
            met[e] = wide;
            outside *= Vector256.ConditionalSelect(wide, Vector256<double>.One, lane.Ratio);
        }

        if (outside == Vector256<double>.Zero)
        {
            return;
        }

        ref var t = ref MemoryMarshal.GetArrayDataReference(_tables);
        mask &= group.Valid; // a shorter path's padding conditions are always met and name no table bit
        var entry = group.Tables + mask;
        var absent = Vector256.Create(Unsafe.Add(ref t, entry.GetElement(0)), Unsafe.Add(ref t, entry.GetElement(1)), Unsafe.Add(ref t, entry.GetElement(2)), Unsafe.Add(ref t, entry.GetElement(3))) * outside;
        for (var e = 0; e < group.Count; e++)
        {
            ref readonly var lane = ref Unsafe.Add(ref c, e);
            var without = group.Tables + (mask & Vector128.Create(~(1 << e)));
            var present = lane.OneMinusRatio * Vector256.Create(Unsafe.Add(ref t, without.GetElement(0)), Unsafe.Add(ref t, without.GetElement(1)), Unsafe.Add(ref t, without.GetElement(2)), Unsafe.Add(ref t, without.GetElement(3))) * outside;
            added[e] = Vector256.ConditionalSelect(met[e], present, -absent);
        }

        for (var leaf = 0; leaf < Vector256<double>.Count; leaf++)
        {
            var count = _leaves[group.FirstLeaf + leaf].Count;
            for (var e = 0; e < count; e++)
            {
                sums[(Unsafe.Add(ref c, e).Feature.GetElement(leaf) * stride) + r] += added[e].GetElement(leaf);
            }
        }
    }

    // AddTabled for Vector256<double>.Count rows at a time (lanes = rows, same arithmetic, same order); returns the first
    // row it left for the scalar loop. A lane whose R is 0 adds ±0, which changes nothing, as the scalar early return.
    private static int AddTabledVector(in Leaf leaf, ref Condition first, ReadOnlySpan<int> codes, int stride, int n, ReadOnlySpan<double> table, Span<double> sums, Span<Vector256<double>> met)
    {
        var lanes = Vector256<double>.Count;
        ref var t = ref MemoryMarshal.GetReference(table);
        var r = 0;
        for (; r + lanes <= n; r += lanes)
        {
            var mask = Vector128<int>.Zero;
            var outside = Vector256<double>.One;
            for (var e = 0; e < leaf.Count; e++)
            {
                ref readonly var c = ref Unsafe.Add(ref first, e);
                var code = Vector128.Create(codes.Slice((c.Feature * stride) + r, lanes));
                var hit = Vector128.LessThanOrEqual((code - Vector128.Create(c.First)).AsUInt32(), Vector128.Create(c.Width)).AsInt32();
                mask |= hit & Vector128.Create(1 << e);
                var wide = Vector256.Create(Vector128.WidenLower(hit), Vector128.WidenUpper(hit)).AsDouble();
                met[e] = wide;
                outside *= Vector256.ConditionalSelect(wide, Vector256<double>.One, Vector256.Create(c.Ratio));
            }

            if (outside == Vector256<double>.Zero)
            {
                continue;
            }

            var (m0, m1, m2, m3) = (mask.GetElement(0), mask.GetElement(1), mask.GetElement(2), mask.GetElement(3));
            var absent = Vector256.Create(Unsafe.Add(ref t, m0), Unsafe.Add(ref t, m1), Unsafe.Add(ref t, m2), Unsafe.Add(ref t, m3)) * outside;
            for (var e = 0; e < leaf.Count; e++)
            {
                ref readonly var c = ref Unsafe.Add(ref first, e);
                var keep = ~(1 << e);
                var without = Vector256.Create(Unsafe.Add(ref t, m0 & keep), Unsafe.Add(ref t, m1 & keep), Unsafe.Add(ref t, m2 & keep), Unsafe.Add(ref t, m3 & keep));
                var present = Vector256.Create(c.OneMinusRatio) * without * outside;
                var slot = sums.Slice((c.Feature * stride) + r, lanes);
                (Vector256.Create((ReadOnlySpan<double>)slot) + Vector256.ConditionalSelect(met[e], present, -absent)).CopyTo(slot);
            }
        }

        return r;
    }

    // Branch-free: whether a row meets a condition is as good as random, and a mispredicted branch costs more than the work.
    // x: the row's first code, its features stride apart; phi likewise (the block's feature-major layout).
    private static void AddTabled(in Leaf leaf, ref Condition first, ref int x, int stride, ReadOnlySpan<double> table, ref double phi)
    {
        var mask = 0;
        var outside = 1.0; // R: the cover share of the conditions the row does not meet
        for (var e = 0; e < leaf.Count; e++)
        {
            ref readonly var c = ref Unsafe.Add(ref first, e);
            var met = Met(Unsafe.Add(ref x, c.Feature * stride), c);
            mask |= met << e;
            outside *= Unsafe.Add(ref Unsafe.AsRef(in c.Ratio), met); // Ratio, or the One after it
        }

        if (outside == 0)
        {
            return;
        }

        var absent = table[mask] * outside;
        for (var e = 0; e < leaf.Count; e++)
        {
            ref readonly var c = ref Unsafe.Add(ref first, e);
            var bit = (mask >> e) & 1;
            double met = bit; // 0 or 1: the products below are exact
            var present = c.OneMinusRatio * table[mask ^ (bit << e)] * outside; // unmet: table[mask], already in cache
            Unsafe.Add(ref phi, c.Feature * stride) += (met * present) - ((1 - met) * absent);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Met(int code, in Condition c) => (uint)(code - c.First) <= c.Width ? 1 : 0;

    private static int Code(double[] thresholds, double value)
    {
        if (double.IsNaN(value) || thresholds.Length == 0)
        {
            return 0;
        }

        var index = Array.BinarySearch(thresholds, value);
        return index >= 0 ? index : ~index; // equal to t_j: exceeds t_0 … t_(j−1); else all below the insertion point
    }

    private static void AddComputed(in Leaf leaf, ReadOnlySpan<Condition> path, double[] weights, ref int x, int stride, ref double phi, Span<double> polynomial, Span<int> satisfied)
    {
        // Branch-free, as in AddTabled: the met conditions' indices, and R.
        var count = 0;
        var outside = 1.0;
        for (var e = 0; e < path.Length; e++)
        {
            ref readonly var c = ref path[e];
            var met = Met(Unsafe.Add(ref x, c.Feature * stride), c);
            satisfied[count] = e;
            count += met;
            outside *= Unsafe.Add(ref Unsafe.AsRef(in c.Ratio), met);
        }

        if (outside == 0)
        {
            return;
        }

        // polynomial[m] = e_m(r over the met conditions).
        polynomial[0] = 1;
        for (var a = 0; a < count; a++)
        {
            var r = path[satisfied[a]].Ratio;
            polynomial[a + 1] = r * polynomial[a];
            for (var m = a; m >= 1; m--)
            {
                polynomial[m] += r * polynomial[m - 1];
            }
        }

        var scaled = leaf.Value * outside;
        if (count < path.Length)
        {
            // g(A) = Σ_s W(s) e_{|A|−s}, taken from every feature whose conditions the row does not meet.
            var g = 0.0;
            for (var s = 0; s <= count; s++)
            {
                g += weights[s] * polynomial[count - s];
            }

            var absent = g * scaled;
            for (var e = 0; e < path.Length; e++)
            {
                ref readonly var c = ref path[e];
                Unsafe.Add(ref phi, c.Feature * stride) -= (1 - Met(Unsafe.Add(ref x, c.Feature * stride), c)) * absent;
            }
        }

        for (var a = 0; a < count; a++)
        {
            // g(A∖{i}): divide (1 + r_i z) out, e_m(A∖{i}) = e_m(A) − r_i e_{m−1}(A∖{i}) (stable: 0 ≤ r_i ≤ 1),
            // summing W(s) e_{|A|−1−s}(A∖{i}) on the way.
            ref readonly var c = ref path[satisfied[a]];
            var reduced = 1.0;
            var g = weights[count - 1];
            for (var m = 1; m < count; m++)
            {
                reduced = polynomial[m] - (c.Ratio * reduced);
                g += weights[count - 1 - m] * reduced;
            }

            Unsafe.Add(ref phi, c.Feature * stride) += c.OneMinusRatio * g * scaled;
        }
    }

    // Table: offset in _tables, or −1 when the leaf computes.
    private readonly record struct Leaf(double Value, int Start, int Count, int Table);

    // Vector256<double>.Count consecutive tabled leaves: their conditions, condition by condition, one leaf per lane, at
    // _laneConditions[Start …] (Count: the longest path's length; shorter paths are padded with conditions every row
    // meets), their tables' offsets, and per lane the bits of its own conditions.
    private readonly record struct LeafGroup(int FirstLeaf, int Start, int Count, Vector128<int> Tables, Vector128<int> Valid);

    // Condition e of the leaves of a group, one leaf per lane (the fields of Condition).
    private readonly record struct LaneCondition(Vector128<int> Feature, Vector128<int> First, Vector128<uint> Width, Vector256<double> Ratio, Vector256<double> OneMinusRatio);

    // A Step with its interval as codes (see ToCondition). Ratio: the product of the splits' cover ratios; One (always 1)
    // follows it so that a met condition picks 1 without a branch.
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct Condition(int feature, int first, int width, double ratio)
    {
        public readonly double Ratio = ratio;
        public readonly double One = 1;
        public readonly double OneMinusRatio = 1 - ratio;
        public readonly int Feature = feature;
        public readonly int First = first;
        public readonly uint Width = (uint)width;
    }
}
