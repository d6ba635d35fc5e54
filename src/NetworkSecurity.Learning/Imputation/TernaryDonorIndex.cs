using System.Numerics;
using System.Runtime.Intrinsics;

namespace NetworkSecurity.Learning.Imputation;

/// <summary>
/// The KNN imputer's donors when every value is -1, 0, 1 or missing and there are at most 32 columns (the phishing
/// features): each distinct donor vector is stored once, as 32 bytes (value + 1) and a 32-byte presence mask, with the
/// training rows that hold it. A query is compared with every distinct vector in one 256-bit step each, and the k
/// nearest rows are chosen by (distance, row) exactly as the row-by-row search does, so results are identical.
/// </summary>
internal sealed class TernaryDonorIndex
{
    private const int Width = 32;
    private readonly byte[] _values;   // distinct vectors × 32: value + 1 (0, 1, 2); 0 where missing or padding
    private readonly byte[] _present;  // distinct vectors × 32: 0xFF where the donor has the value
    private readonly ulong[] _planes; // distinct vectors: bit c = value ≥ 0, bit 32 + c = value ≥ 1 (see NearestComplete)
    private readonly int[][] _rows;    // training rows of each distinct vector, ascending
    private readonly int _columns;

    private TernaryDonorIndex(byte[] values, byte[] present, int[][] rows, int columns, bool complete)
    {
        _values = values;
        _present = present;
        _planes = new ulong[rows.Length];
        for (var u = 0; u < rows.Length; u++)
        {
            _planes[u] = Planes(values.AsSpan(u * Width, Width));
        }

        _rows = rows;
        _columns = columns;
        Complete = complete;
        if (complete)
        {
            _groups = DonorGroups.TryCreate(values, Width, rows.Length, columns);
        }
    }

    private readonly DonorGroups? _groups; // complete donors only

    public int DistinctCount => _rows.Length;

    /// <summary>No donor has a missing value: one neighbour search serves every missing column of a query.</summary>
    public bool Complete { get; }

    public static TernaryDonorIndex? TryCreate(Data.FeatureMatrix donors)
    {
        if (donors.Columns is 0 or > Width)
        {
            return null;
        }

        var groups = new Dictionary<(long, long, long, long), List<int>>();
        var order = new List<(long, long, long, long)>();
        Span<byte> key = stackalloc byte[Width];
        var complete = true;
        for (var r = 0; r < donors.Rows; r++)
        {
            key.Clear();
            var row = donors.Row(r);
            for (var c = 0; c < row.Length; c++)
            {
                if (!TryEncode(row[c], out var code))
                {
                    return null;
                }

                key[c] = code;
                complete &= code != Missing;
            }

            var k = Key(key);
            if (!groups.TryGetValue(k, out var rows))
            {
                groups[k] = rows = [];
                order.Add(k);
            }

            rows.Add(r);
        }

        var values = new byte[order.Count * Width];
        var present = new byte[order.Count * Width];
        var rowLists = new int[order.Count][];
        for (var u = 0; u < order.Count; u++)
        {
            var (a, b, c, d) = order[u];
            Span<long> words = [a, b, c, d];
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(words);
            for (var i = 0; i < donors.Columns; i++)
            {
                if (bytes[i] != Missing)
                {
                    values[(u * Width) + i] = bytes[i];
                    present[(u * Width) + i] = 0xFF;
                }
            }

            rowLists[u] = [.. groups[order[u]]];
        }

        return new TernaryDonorIndex(values, present, rowLists, donors.Columns, complete);
    }

    private const byte Missing = 3;

    /// <summary>-1, 0, 1 → 0, 1, 2; NaN → <see cref="Missing"/>; anything else cannot be indexed.</summary>
    public static bool TryEncode(double value, out byte code)
    {
        if (double.IsNaN(value))
        {
            code = Missing;
            return true;
        }

        code = value switch { -1.0 => 0, 0.0 => 1, 1.0 => 2, _ => byte.MaxValue };
        return code != byte.MaxValue;
    }

    private static (long, long, long, long) Key(ReadOnlySpan<byte> bytes)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes);
        return (words[0], words[1], words[2], words[3]);
    }

    /// <summary>Encodes a query row; false when a present value is not -1, 0 or 1 (the caller uses the exact search).</summary>
    public bool TryEncodeQuery(ReadOnlySpan<double> row, Span<byte> values, Span<byte> present)
    {
        values.Clear();
        present.Clear();
        for (var c = 0; c < row.Length; c++)
        {
            if (!TryEncode(row[c], out var code))
            {
                return false;
            }

            if (code != Missing)
            {
                values[c] = code;
                present[c] = 0xFF;
            }
        }

        return true;
    }

    /// <summary>nan_euclidean distance from the query to every distinct vector (NaN when no coordinate is shared).</summary>
    public void Distances(ReadOnlySpan<byte> queryValues, ReadOnlySpan<byte> queryPresent, Span<double> distances)
    {
        var columns = _columns;
        if (Vector256.IsHardwareAccelerated)
        {
            var q = Vector256.Create<byte>(queryValues);
            var qm = Vector256.Create<byte>(queryPresent);
            var two = Vector256.Create((byte)2);
            for (var u = 0; u < distances.Length; u++)
            {
                var d = Vector256.Create<byte>(_values.AsSpan(u * Width, Width));
                var mask = qm & Vector256.Create<byte>(_present.AsSpan(u * Width, Width));
                var diff = (Vector256.Max(q, d) - Vector256.Min(q, d)) & mask; // |q - d| ∈ {0, 1, 2}
                var squares = diff + (diff & two);                              // {0, 1, 4}; ≤ 128 in total
                var sum = Vector256.Sum(squares);
                var shared = BitOperations.PopCount(mask.ExtractMostSignificantBits());
                distances[u] = shared == 0 ? double.NaN : Math.Sqrt((double)sum * columns / shared);
            }

            return;
        }

        for (var u = 0; u < distances.Length; u++)
        {
            var sum = 0;
            var shared = 0;
            for (var c = 0; c < columns; c++)
            {
                if (queryPresent[c] != 0 && _present[(u * Width) + c] != 0)
                {
                    var diff = queryValues[c] - _values[(u * Width) + c];
                    sum += diff * diff;
                    shared++;
                }
            }

            distances[u] = shared == 0 ? double.NaN : Math.Sqrt((double)sum * columns / shared);
        }
    }

    /// <summary>
    /// nan_euclidean distance from a query with other values than -1, 0, 1 to every distinct vector, computed in
    /// doubles in column order exactly as the row-by-row search does.
    /// </summary>
    public void Distances(ReadOnlySpan<double> query, Span<double> distances)
    {
        var columns = _columns;
        for (var u = 0; u < distances.Length; u++)
        {
            double sum = 0;
            var shared = 0;
            for (var c = 0; c < columns; c++)
            {
                if (!double.IsNaN(query[c]) && Has(u, c))
                {
                    var diff = query[c] - Value(u, c);
                    sum += diff * diff;
                    shared++;
                }
            }

            distances[u] = shared == 0 ? double.NaN : Math.Sqrt(sum * columns / shared);
        }
    }

    /// <summary>
    /// A vector's codes (0, 1, 2 = -1, 0, 1) as two bit planes: bit c when the value is ≥ 0, bit 32 + c when it is ≥ 1.
    /// Two values differ by the number of planes in which their bits differ (0, 1 or 2), so over the coordinates in a
    /// mask X = (a ^ b) &amp; mask counts |a - b| and X &amp; (X &gt;&gt; 32) marks the differences of 2 (squared: 4, not 2).
    /// </summary>
    private static ulong Planes(ReadOnlySpan<byte> codes)
    {
        var v = Vector256.Create<byte>(codes);
        var atLeastZero = Vector256.GreaterThanOrEqual(v, Vector256.Create((byte)1)).ExtractMostSignificantBits();
        var atLeastOne = Vector256.GreaterThanOrEqual(v, Vector256.Create((byte)2)).ExtractMostSignificantBits();
        return atLeastZero | ((ulong)atLeastOne << 32);
    }

    /// <summary>Per-thread working memory of <see cref="NearestComplete"/>.</summary>
    public sealed class SearchScratch(int distinct)
    {
        public byte[] Sums { get; } = new byte[distinct];

        public int[] Candidates { get; } = new int[distinct];

        public int[] Stamps { get; } = new int[distinct];

        public int Stamp { get; set; }
    }

    public SearchScratch CreateScratch() => new(DistinctCount);

    /// <summary>
    /// For complete donors: every donor shares the same coordinates with the query, so the distance grows with the
    /// integer sum of squared differences alone and the k nearest rows by (distance, row) are the k smallest
    /// (sum, row). The donors of the <see cref="DonorGroups"/> pre-filter are tried first; when they cannot settle
    /// it, the sums of all distinct vectors are taken (bit planes and popcounts, no branch) and the selection visits
    /// only blocks holding a sum within the k-th best so far. Returns how many were found (0 when the query has no
    /// value at all).
    /// </summary>
    public int NearestComplete(ReadOnlySpan<byte> queryValues, ReadOnlySpan<byte> queryPresent, int k, Span<int> units, Span<int> rows, SearchScratch scratch)
    {
        var present = Vector256.Create<byte>(queryPresent).ExtractMostSignificantBits();
        if (present == 0)
        {
            return 0;
        }

        var query = Planes(queryValues);
        var mask = present | ((ulong)present << 32);
        var planes = _planes;
        Span<int> best = stackalloc int[k];
        int found;
        if (_groups is not null)
        {
            if (++scratch.Stamp == int.MaxValue)
            {
                Array.Clear(scratch.Stamps);
                scratch.Stamp = 1;
            }

            var count = _groups.Collect(queryValues, queryPresent, scratch.Candidates, scratch.Stamps, scratch.Stamp);
            if (count >= 0)
            {
                found = 0;
                foreach (var u in scratch.Candidates.AsSpan(0, count))
                {
                    var sum = SquaredDifferences(planes[u], query, mask);
                    if (found < k || sum <= best[k - 1])
                    {
                        found = Offer(u, sum, found, k, best, units, rows);
                    }
                }

                if (found == k && best[k - 1] < DonorGroups.Count)
                {
                    return found; // every donor this close is a candidate
                }
            }
        }

        var sums = scratch.Sums.AsSpan(0, planes.Length);
        for (var u = 0; u < planes.Length; u++)
        {
            sums[u] = (byte)SquaredDifferences(planes[u], query, mask);
        }

        found = 0;
        var worst = byte.MaxValue;
        var block = Vector256<byte>.Count;
        for (var u0 = 0; u0 < sums.Length; u0 += block)
        {
            var candidates = u0 + block <= sums.Length
                ? Vector256.LessThanOrEqual(Vector256.Create<byte>(sums.Slice(u0, block)), Vector256.Create(worst)).ExtractMostSignificantBits()
                : uint.MaxValue >> (block - (sums.Length - u0));
            while (candidates != 0)
            {
                var u = u0 + BitOperations.TrailingZeroCount(candidates);
                candidates &= candidates - 1;
                if (sums[u] <= worst)
                {
                    found = Offer(u, sums[u], found, k, best, units, rows);
                    if (found == k)
                    {
                        worst = (byte)best[k - 1];
                    }
                }
            }
        }

        return found;
    }

    /// <summary>Σ (a - b)² over the masked coordinates of two vectors in bit planes (at most 32 × 4).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int SquaredDifferences(ulong a, ulong b, ulong mask)
    {
        var x = (a ^ b) & mask;
        return BitOperations.PopCount(x) + (2 * BitOperations.PopCount(x & (x >> 32)));
    }

    /// <summary>Offers the rows of distinct vector <paramref name="u"/> at <paramref name="sum"/> to the k smallest (sum, row) so far; returns how many are held.</summary>
    private int Offer(int u, int sum, int found, int k, Span<int> best, Span<int> units, Span<int> rows) =>
        Offer(_rows[u], u, sum, found, k, best, units, rows);

    /// <summary>
    /// Offers <paramref name="candidates"/> (the ascending training rows of distinct vector <paramref name="u"/>, all at
    /// <paramref name="distance"/>) to the k smallest (distance, row) held in <paramref name="best"/>, <paramref name="rows"/>
    /// and <paramref name="units"/>, kept sorted; returns how many are held. Ties go to the lower row, as scikit-learn.
    /// </summary>
    internal static int Offer<T>(int[] candidates, int u, T distance, int found, int k, Span<T> best, Span<int> units, Span<int> rows)
        where T : INumber<T>
    {
        foreach (var r in candidates)
        {
            if (found == k && (distance > best[k - 1] || (distance == best[k - 1] && r > rows[k - 1])))
            {
                break; // the vector's later rows are larger still
            }

            var i = found < k ? found++ : k - 1;
            while (i > 0 && (best[i - 1] > distance || (best[i - 1] == distance && rows[i - 1] > r)))
            {
                best[i] = best[i - 1];
                rows[i] = rows[i - 1];
                units[i] = units[i - 1];
                i--;
            }

            best[i] = distance;
            rows[i] = r;
            units[i] = u;
        }

        return found;
    }

    /// <summary>Whether distinct vector <paramref name="u"/> has column <paramref name="column"/>.</summary>
    public bool Has(int u, int column) => _present[(u * Width) + column] != 0;

    /// <summary>The value of column <paramref name="column"/> in distinct vector <paramref name="u"/>.</summary>
    public double Value(int u, int column) => _values[(u * Width) + column] - 1.0;

    /// <summary>Column <paramref name="column"/> of distinct vector <paramref name="u"/> as <see cref="TryEncode"/> codes it.</summary>
    public byte Code(int u, int column) => Has(u, column) ? _values[(u * Width) + column] : Missing;

    public int[] Rows(int u) => _rows[u];
}
