using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    private readonly int[][] _rows;    // training rows of each distinct vector, ascending
    private readonly int _columns;

    private TernaryDonorIndex(byte[] values, byte[] present, int[][] rows, int columns, bool complete)
    {
        _values = values;
        _present = present;
        _rows = rows;
        _columns = columns;
        Complete = complete;
    }

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
    /// For complete donors: every donor shares the same coordinates with the query, so the distance grows with the
    /// integer sum of squared differences alone and the k nearest rows by (distance, row) are the k smallest
    /// (sum, row) — found in one pass, no square root or division per donor. Returns how many were found (0 when the
    /// query has no value at all).
    /// </summary>
    public int NearestComplete(ReadOnlySpan<byte> queryValues, ReadOnlySpan<byte> queryPresent, int k, Span<int> units, Span<int> rows)
    {
        if (queryPresent.IndexOfAnyExcept((byte)0) < 0)
        {
            return 0;
        }

        Span<int> sums = stackalloc int[k];
        var found = 0;
        var worst = int.MaxValue;
        var q = Vector256.Create<byte>(queryValues);
        var mask = Vector256.Create<byte>(queryPresent);
        var two = Vector256.Create((byte)2);
        var values = _values;
        for (var u = 0; u < _rows.Length; u++)
        {
            var d = Vector256.Create<byte>(values.AsSpan(u * Width, Width));
            var diff = (Vector256.Max(q, d) - Vector256.Min(q, d)) & mask; // |q - d| ∈ {0, 1, 2}
            var squares = diff + (diff & two);                            // {0, 1, 4}
            int sum;
            if (Avx2.IsSupported)
            {
                var partial = Avx2.SumAbsoluteDifferences(squares, Vector256<byte>.Zero).AsUInt64();
                var half = partial.GetLower() + partial.GetUpper();
                sum = (int)(half.ToScalar() + half.GetElement(1));
            }
            else
            {
                sum = Vector256.Sum(squares); // ≤ 32 × 4 = 128: no overflow
            }

            if (sum > worst)
            {
                continue;
            }

            foreach (var r in _rows[u])
            {
                if (found == k && (sum > sums[k - 1] || (sum == sums[k - 1] && r > rows[k - 1])))
                {
                    break; // the vector's later rows are larger still
                }

                var i = found < k ? found++ : k - 1;
                while (i > 0 && (sums[i - 1] > sum || (sums[i - 1] == sum && rows[i - 1] > r)))
                {
                    sums[i] = sums[i - 1];
                    rows[i] = rows[i - 1];
                    units[i] = units[i - 1];
                    i--;
                }

                sums[i] = sum;
                rows[i] = r;
                units[i] = u;
            }

            if (found == k)
            {
                worst = sums[k - 1];
            }
        }

        return found;
    }

    /// <summary>Whether distinct vector <paramref name="u"/> has column <paramref name="column"/>.</summary>
    public bool Has(int u, int column) => _present[(u * Width) + column] != 0;

    /// <summary>The value of column <paramref name="column"/> in distinct vector <paramref name="u"/>.</summary>
    public double Value(int u, int column) => _values[(u * Width) + column] - 1.0;

    public int[] Rows(int u) => _rows[u];
}
