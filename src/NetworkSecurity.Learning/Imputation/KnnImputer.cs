using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Imputation;

/// <summary>
/// Fills missing values (NaN) with the mean of the k nearest training rows that have the value, as scikit-learn's
/// <c>KNNImputer(weights="uniform", metric="nan_euclidean")</c>:
/// distance = sqrt(n_features / n_present · Σ over coordinates present in both rows of (x - y)²).
/// A row with no coordinate in common with any donor gets the training mean of the column.
/// Ties at the k-th distance are broken by the lowest training row first (scikit-learn leaves that order unspecified).
/// Unlike scikit-learn, a column with no value at all in training is kept and its missing values become 0.
/// When every value is -1, 0 or 1 (the phishing features) the donors are searched through a
/// <see cref="TernaryDonorIndex"/>: each distinct vector once, 32 features per vector step, with the same result; the
/// index then holds the donors alone (a few bytes a training row instead of eight a value).
/// </summary>
public sealed class KnnImputer
{
    private readonly FeatureMatrix? _donors; // null when the index holds them
    private readonly int _rows;
    private readonly double[] _columnMeans;
    private readonly TernaryDonorIndex? _index;

    private KnnImputer(FeatureMatrix donors, int neighbors, bool useIndex = true)
    {
        Neighbors = neighbors;
        _rows = donors.Rows;
        FeatureCount = donors.Columns;
        _index = useIndex ? TernaryDonorIndex.TryCreate(donors) : null;
        _donors = _index is null ? donors : null;
        _columnMeans = new double[donors.Columns];
        for (var c = 0; c < donors.Columns; c++)
        {
            double sum = 0;
            var count = 0;
            for (var r = 0; r < donors.Rows; r++)
            {
                var v = donors[r, c];
                if (!double.IsNaN(v))
                {
                    sum += v;
                    count++;
                }
            }

            _columnMeans[c] = count == 0 ? 0.0 : sum / count;
        }
    }

    public int Neighbors { get; }

    public int FeatureCount { get; }

    public static KnnImputer Fit(FeatureMatrix features, int neighbors = 3) => Fit(features, neighbors, useIndex: true);

    /// <summary>Without the index every query is answered row by row (tests compare both).</summary>
    internal static KnnImputer Fit(FeatureMatrix features, int neighbors, bool useIndex)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbors, 1);
        if (features.Rows == 0)
        {
            throw new ArgumentException("The imputer needs at least one training row.", nameof(features));
        }

        CheckNoInfinity(features);
        return new KnnImputer(features.Clone(), neighbors, useIndex);
    }

    /// <summary>
    /// NaN marks a missing value; an infinity is refused, as scikit-learn does: it made every distance to its row
    /// infinite or NaN and was averaged into the values it filled (an imputed Infinity).
    /// </summary>
    private static void CheckNoInfinity(FeatureMatrix features)
    {
        var values = features.Values;
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsInfinity(values[i]))
            {
                throw new ArgumentException(
                    $"features[{i / features.Columns}, {i % features.Columns}] is {values[i]}; the imputer takes numbers, with NaN for a missing value.",
                    nameof(features));
            }
        }
    }

    /// <summary>Whether the fast, exact search over distinct ternary donor vectors is used.</summary>
    internal bool UsesIndex => _index is not null;

    /// <summary>Returns a copy of <paramref name="features"/> with every missing value filled.</summary>
    public FeatureMatrix Transform(FeatureMatrix features) => Transform(features, CancellationToken.None);

    /// <summary>Returns a copy of <paramref name="features"/> with every missing value filled; stops when cancelled.</summary>
    public FeatureMatrix Transform(FeatureMatrix features, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Columns != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Columns}.", nameof(features));
        }

        CheckNoInfinity(features);
        var result = features.Clone();
        var incomplete = new List<int>();
        for (var r = 0; r < result.Rows; r++)
        {
            if (HasNaN(result.Row(r)))
            {
                incomplete.Add(r);
            }
        }

        if (incomplete.Count == 0)
        {
            return result;
        }

        var index = _index;
        Parallel.ForEach(
            System.Collections.Concurrent.Partitioner.Create(0, incomplete.Count, Math.Max(1, Math.Min(1024, incomplete.Count / (Environment.ProcessorCount * 4)))),
            new ParallelOptions { CancellationToken = cancellationToken },
            () => new Scratch(index?.DistinctCount ?? _rows, index),
            (range, _, scratch) =>
            {
                Span<byte> values = stackalloc byte[32];
                Span<byte> present = stackalloc byte[32];
                for (var i = range.Item1; i < range.Item2; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var row = result.RowSpan(incomplete[i]);
                    if (index is not null)
                    {
                        // A query with another value than -1, 0, 1 is measured in doubles against the same vectors.
                        var encoded = index.TryEncodeQuery(row, values, present);
                        ImputeRow(index, row, encoded, values, present, scratch);
                    }
                    else
                    {
                        ImputeRow(_donors!, row, scratch.Distances);
                    }
                }

                return scratch;
            },
            _ => { });
        return result;
    }

    /// <summary>
    /// The indexed search: k nearest training rows by (distance, row), as <see cref="ImputeRow(FeatureMatrix, Span{double}, double[])"/>
    /// picks them. <paramref name="values"/> and <paramref name="present"/> hold the query's codes when it is
    /// <paramref name="encoded"/>.
    /// </summary>
    private void ImputeRow(TernaryDonorIndex index, Span<double> row, bool encoded, ReadOnlySpan<byte> values, ReadOnlySpan<byte> present, Scratch scratch)
    {
        var distinct = scratch.Distances.AsSpan(0, index.DistinctCount);
        Span<int> units = stackalloc int[Neighbors];
        Span<int> rows = stackalloc int[Neighbors];
        Span<double> nearest = stackalloc double[Neighbors];
        var found = -1;
        for (var c = 0; c < row.Length; c++)
        {
            if (!double.IsNaN(row[c]))
            {
                continue;
            }

            // With complete donors every column has the same candidates: one search serves them all.
            if (encoded && index.Complete)
            {
                if (found < 0)
                {
                    found = NearestCached(index, values, present, units, rows, scratch);
                }
            }
            else
            {
                if (found < 0)
                {
                    // One pass over the vectors per row: the distances serve every missing cell of the row.
                    if (encoded)
                    {
                        index.Distances(values, present, distinct);
                    }
                    else
                    {
                        index.Distances(row, distinct);
                    }
                }

                found = Nearest(index, distinct, c, units, rows, nearest);
            }

            if (found == 0)
            {
                row[c] = _columnMeans[c];
                continue;
            }

            double total = 0;
            for (var k = 0; k < found; k++)
            {
                total += index.Value(units[k], c);
            }

            row[c] = total / found;
        }
    }

    /// <summary>
    /// <see cref="TernaryDonorIndex.NearestComplete"/>, remembered per (missing pattern, observed values) for the rest of
    /// the batch: uploads repeat the same sites (the data set holds each vector about twice) and the same gaps.
    /// </summary>
    private int NearestCached(TernaryDonorIndex index, ReadOnlySpan<byte> values, ReadOnlySpan<byte> present, Span<int> units, Span<int> rows, Scratch scratch)
    {
        Span<byte> key = stackalloc byte[32];
        for (var c = 0; c < key.Length; c++)
        {
            key[c] = present[c] == 0 ? (byte)3 : values[c];
        }

        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(key);
        var cacheKey = (words[0], words[1], words[2], words[3]);
        if (scratch.Nearest.TryGetValue(cacheKey, out var cached))
        {
            cached.CopyTo(units);
            return cached.Length;
        }

        var found = index.NearestComplete(values, present, Neighbors, units, rows, scratch.Search);
        if (scratch.Nearest.Count < Scratch.MaxCached)
        {
            scratch.Nearest[cacheKey] = units[..found].ToArray();
        }

        return found;
    }

    /// <summary>Per-thread working memory of <see cref="Transform(FeatureMatrix, CancellationToken)"/>.</summary>
    private sealed class Scratch(int donors, TernaryDonorIndex? index)
    {
        public const int MaxCached = 65_536;

        private double[]? _distances;

        /// <summary>Allocated on first use: the complete-donor search (the usual case) does not need it.</summary>
        public double[] Distances => _distances ??= new double[donors];

        private TernaryDonorIndex.SearchScratch? _search;

        /// <summary>The complete-donor search's memory, allocated on first use.</summary>
        public TernaryDonorIndex.SearchScratch Search => _search ??= index!.CreateScratch();

        public Dictionary<(long, long, long, long), int[]> Nearest { get; } = [];
    }

    /// <summary>Fills the k smallest (distance, row) among donors having <paramref name="column"/> (-1: any); returns how many.</summary>
    private int Nearest(TernaryDonorIndex index, ReadOnlySpan<double> distances, int column, Span<int> units, Span<int> rows, Span<double> nearest)
    {
        var k = Neighbors;
        var found = 0;
        for (var u = 0; u < distances.Length; u++)
        {
            var distance = distances[u];
            if (double.IsNaN(distance) || (found == k && distance > nearest[k - 1]) || (column >= 0 && !index.Has(u, column)))
            {
                continue;
            }

            found = TernaryDonorIndex.Offer(index.Rows(u), u, distance, found, k, nearest, units, rows);
        }

        return found;
    }

    private void ImputeRow(FeatureMatrix donors, Span<double> row, double[] distances)
    {
        // One pass over the donors per row: the distances serve every missing cell of the row.
        var columns = row.Length;
        for (var d = 0; d < donors.Rows; d++)
        {
            var donor = donors.Row(d);
            double sum = 0;
            var present = 0;
            for (var c = 0; c < columns; c++)
            {
                var a = row[c];
                var b = donor[c];
                if (!double.IsNaN(a) && !double.IsNaN(b))
                {
                    var diff = a - b;
                    sum += diff * diff;
                    present++;
                }
            }

            distances[d] = present == 0 ? double.NaN : Math.Sqrt(sum * columns / present);
        }

        Span<int> nearest = stackalloc int[Neighbors];
        Span<double> nearestDistance = stackalloc double[Neighbors];
        for (var c = 0; c < columns; c++)
        {
            if (!double.IsNaN(row[c]))
            {
                continue;
            }

            // k smallest distances among donors that have column c; strict '<' keeps the lowest row on ties.
            var found = 0;
            var anyDefined = false;
            for (var d = 0; d < donors.Rows; d++)
            {
                var distance = distances[d];
                if (double.IsNaN(distance))
                {
                    continue;
                }

                if (double.IsNaN(donors[d, c]))
                {
                    continue;
                }

                anyDefined = true;
                if (found < Neighbors)
                {
                    Insert(nearest, nearestDistance, found, d, distance);
                    found++;
                }
                else if (distance < nearestDistance[Neighbors - 1])
                {
                    Insert(nearest, nearestDistance, Neighbors - 1, d, distance);
                }
            }

            if (!anyDefined)
            {
                row[c] = _columnMeans[c];
                continue;
            }

            double total = 0;
            for (var k = 0; k < found; k++)
            {
                total += donors[nearest[k], c];
            }

            row[c] = total / found;
        }
    }

    /// <summary>Inserts (row, distance) into the sorted first <paramref name="count"/>+1 slots, dropping the last.</summary>
    private static void Insert(Span<int> rows, Span<double> distances, int count, int row, double distance)
    {
        var i = count;
        while (i > 0 && distances[i - 1] > distance)
        {
            rows[i] = rows[i - 1];
            distances[i] = distances[i - 1];
            i--;
        }

        rows[i] = row;
        distances[i] = distance;
    }

    private static bool HasNaN(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (double.IsNaN(v))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the donors. Ternary donors (every value -1, 0, 1 or missing: the phishing features) are packed two bits a
    /// value (payload version 2), a 32nd of the plain form (version 1, eight bytes a value), so the model file stays
    /// small when the training data are large; both read back to the same donors (0 for -0.0, which imputes alike).
    /// </summary>
    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var packed = _donors is null || Array.TrueForAll(_donors.Values, v => TernaryDonorIndex.TryEncode(v, out _));
        writer.Write("knn_imputer");
        writer.Write(packed ? 2 : 1); // payload version
        writer.Write(Neighbors);
        writer.Write(_rows);
        writer.Write(FeatureCount);
        if (!packed)
        {
            foreach (var v in _donors!.Values)
            {
                writer.Write(v);
            }

            return;
        }

        // Value i (row-major) takes bits 2(i mod 4) and up of byte i / 4.
        var bytes = new byte[PackedLength((long)_rows * FeatureCount)];
        if (_index is not null)
        {
            for (var u = 0; u < _index.DistinctCount; u++)
            {
                foreach (var r in _index.Rows(u))
                {
                    for (var c = 0; c < FeatureCount; c++)
                    {
                        Pack(bytes, ((long)r * FeatureCount) + c, _index.Code(u, c));
                    }
                }
            }
        }
        else
        {
            var values = _donors!.Values;
            for (var i = 0; i < values.Length; i++)
            {
                TernaryDonorIndex.TryEncode(values[i], out var code);
                Pack(bytes, i, code);
            }
        }

        writer.Write(bytes);
    }

    private static void Pack(byte[] bytes, long i, byte code) =>
        bytes[i / ValuesPerByte] |= (byte)(code << (int)(2 * (i % ValuesPerByte)));

    private const int ValuesPerByte = 4;

    private static readonly double[] Decoded = [-1.0, 0.0, 1.0, double.NaN];

    private static long PackedLength(long values) => (values + ValuesPerByte - 1) / ValuesPerByte;

    public static KnnImputer ReadFrom(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.ReadString() != "knn_imputer")
        {
            throw new InvalidDataException("Not a KNN imputer.");
        }

        var version = reader.ReadInt32();
        if (version is not (1 or 2))
        {
            throw new InvalidDataException($"KNN imputer payload version {version} is not supported.");
        }

        var neighbors = reader.ReadInt32();
        var rows = reader.ReadInt32();
        var columns = reader.ReadInt32();
        var count = (long)rows * columns;
        var bytes = version == 1 ? count * sizeof(double) : PackedLength(count);
        // A damaged header must not allocate gigabytes: the values must fit in an array and, where the stream's length is
        // known, in what is left of it.
        var stream = reader.BaseStream;
        if (neighbors < 1 || rows < 1 || columns < 0 || count > Array.MaxLength
            || (stream.CanSeek ? bytes > stream.Length - stream.Position : count > 100_000_000))
        {
            throw new InvalidDataException("KNN imputer header is invalid.");
        }

        var values = new double[count];
        if (version == 1)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.ReadDouble();
            }
        }
        else
        {
            var buffer = new byte[Math.Min(bytes, 1 << 16)];
            for (long i = 0; i < values.Length;)
            {
                var read = reader.Read(buffer, 0, (int)Math.Min(buffer.Length, PackedLength(values.Length - i)));
                if (read == 0)
                {
                    throw new EndOfStreamException("The KNN imputer's donors end early.");
                }

                for (var b = 0; b < read; b++)
                {
                    for (var j = 0; j < ValuesPerByte && i < values.Length; j++, i++)
                    {
                        values[i] = Decoded[(buffer[b] >> (2 * j)) & 3];
                    }
                }
            }
        }

        return new KnnImputer(new FeatureMatrix(values, rows, columns), neighbors);
    }
}
