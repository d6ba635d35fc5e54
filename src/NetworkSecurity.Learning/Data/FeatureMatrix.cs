namespace NetworkSecurity.Learning.Data;

/// <summary>
/// A dense, row-major matrix of feature values. Missing values are <see cref="double.NaN"/>.
/// Row-major because every learner and scorer here walks one row at a time.
/// </summary>
public sealed class FeatureMatrix
{
    private readonly double[] _values;

    public FeatureMatrix(double[] values, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if ((long)rows * columns != values.Length)
        {
            throw new ArgumentException(
                $"A {rows}x{columns} matrix needs {(long)rows * columns} values, got {values.Length}.", nameof(values));
        }

        _values = values;
        Rows = rows;
        Columns = columns;
    }

    public FeatureMatrix(int rows, int columns)
        : this(Allocate(rows, columns), rows, columns)
    {
    }

    // Checked before allocating: a negative or too large size was an OverflowException naming neither.
    private static double[] Allocate(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        var size = (long)rows * columns;
        return size <= Array.MaxLength
            ? new double[size]
            : throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows}x{columns} matrix has {size} values; an array holds at most {Array.MaxLength}.");
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The backing array (row-major). Exposed for fast algorithms; do not resize.</summary>
    public double[] Values => _values;

    public double this[int row, int column]
    {
        get => _values[(row * Columns) + column];
        set => _values[(row * Columns) + column] = value;
    }

    public ReadOnlySpan<double> Row(int row) => _values.AsSpan(row * Columns, Columns);

    /// <summary>Whether any of <paramref name="values"/> (a row, or a matrix's <see cref="Values"/>) is missing (NaN).</summary>
    public static bool HasMissing(ReadOnlySpan<double> values)
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

    public Span<double> RowSpan(int row) => _values.AsSpan(row * Columns, Columns);

    public static FeatureMatrix FromRows(IReadOnlyList<double[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return new FeatureMatrix([], 0, 0);
        }

        var columns = rows[0]?.Length ?? 0;
        var values = Allocate(rows.Count, columns);
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i] is null)
            {
                throw new ArgumentException($"Row {i} is null.", nameof(rows));
            }

            if (rows[i].Length != columns)
            {
                throw new ArgumentException($"Row {i} has {rows[i].Length} values; row 0 has {columns}.", nameof(rows));
            }

            rows[i].CopyTo(values, i * columns);
        }

        return new FeatureMatrix(values, rows.Count, columns);
    }

    /// <summary>Copies the given rows, in the given order, into a new matrix.</summary>
    public FeatureMatrix SelectRows(ReadOnlySpan<int> rowIndices)
    {
        var result = new double[rowIndices.Length * Columns];
        for (var i = 0; i < rowIndices.Length; i++)
        {
            Row(rowIndices[i]).CopyTo(result.AsSpan(i * Columns, Columns));
        }

        return new FeatureMatrix(result, rowIndices.Length, Columns);
    }

    public FeatureMatrix Clone() => new((double[])_values.Clone(), Rows, Columns);
}
