using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Imputation;

/// <summary>
/// Fills missing values (NaN) with the mean of the k nearest training rows that have the value, as scikit-learn's
/// <c>KNNImputer(weights="uniform", metric="nan_euclidean")</c>:
/// distance = sqrt(n_features / n_present · Σ over coordinates present in both rows of (x - y)²).
/// A row with no coordinate in common with any donor gets the training mean of the column.
/// Ties at the k-th distance are broken by the lowest training row first (scikit-learn leaves that order unspecified).
/// Unlike scikit-learn, a column with no value at all in training is kept and its missing values become 0.
/// </summary>
public sealed class KnnImputer
{
    private readonly FeatureMatrix _donors;
    private readonly double[] _columnMeans;

    private KnnImputer(FeatureMatrix donors, int neighbors)
    {
        _donors = donors;
        Neighbors = neighbors;
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

    public int FeatureCount => _donors.Columns;

    public static KnnImputer Fit(FeatureMatrix features, int neighbors = 3)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbors, 1);
        if (features.Rows == 0)
        {
            throw new ArgumentException("The imputer needs at least one training row.", nameof(features));
        }

        return new KnnImputer(features.Clone(), neighbors);
    }

    /// <summary>Returns a copy of <paramref name="features"/> with every missing value filled.</summary>
    public FeatureMatrix Transform(FeatureMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Columns != _donors.Columns)
        {
            throw new ArgumentException($"Expected {_donors.Columns} features, got {features.Columns}.", nameof(features));
        }

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

        Parallel.ForEach(
            System.Collections.Concurrent.Partitioner.Create(0, incomplete.Count, Math.Max(1, incomplete.Count / (Environment.ProcessorCount * 4))),
            () => new double[_donors.Rows],
            (range, _, distances) =>
            {
                for (var i = range.Item1; i < range.Item2; i++)
                {
                    ImputeRow(result.RowSpan(incomplete[i]), distances);
                }

                return distances;
            },
            _ => { });
        return result;
    }

    private void ImputeRow(Span<double> row, double[] distances)
    {
        // One pass over the donors per row: the distances serve every missing cell of the row.
        var columns = row.Length;
        for (var d = 0; d < _donors.Rows; d++)
        {
            var donor = _donors.Row(d);
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
            for (var d = 0; d < _donors.Rows; d++)
            {
                var distance = distances[d];
                if (double.IsNaN(distance))
                {
                    continue;
                }

                if (double.IsNaN(_donors[d, c]))
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
                total += _donors[nearest[k], c];
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

    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("knn_imputer");
        writer.Write(1); // payload version
        writer.Write(Neighbors);
        writer.Write(_donors.Rows);
        writer.Write(_donors.Columns);
        foreach (var v in _donors.Values)
        {
            writer.Write(v);
        }
    }

    public static KnnImputer ReadFrom(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.ReadString() != "knn_imputer")
        {
            throw new InvalidDataException("Not a KNN imputer.");
        }

        var version = reader.ReadInt32();
        if (version != 1)
        {
            throw new InvalidDataException($"KNN imputer payload version {version} is not supported.");
        }

        var neighbors = reader.ReadInt32();
        var rows = reader.ReadInt32();
        var columns = reader.ReadInt32();
        if (neighbors < 1 || rows < 1 || columns < 0 || (long)rows * columns > 100_000_000)
        {
            throw new InvalidDataException("KNN imputer header is invalid.");
        }

        var values = new double[rows * columns];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadDouble();
        }

        return new KnnImputer(new FeatureMatrix(values, rows, columns), neighbors);
    }
}
