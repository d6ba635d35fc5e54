using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// Maps each feature's values to at most 255 ordered bins. With few distinct values (this data set has three per
/// feature) every distinct value gets its own bin, so splits are exact; otherwise bins hold equal numbers of rows.
/// Bin boundaries are midpoints between neighbouring training values: a value x falls in the first bin whose boundary
/// is ≥ x. NaN is treated as smaller than every value (bin 0, "go left").
/// </summary>
public sealed class FeatureBinner
{
    public const int MaxBins = 255;

    private FeatureBinner(double[][] boundaries) => Boundaries = boundaries;

    /// <summary>Per feature, the upper boundary of every bin but the last.</summary>
    public double[][] Boundaries { get; }

    public int FeatureCount => Boundaries.Length;

    public int BinCount(int feature) => Boundaries[feature].Length + 1;

    public static FeatureBinner Fit(FeatureMatrix features, int maxBins = MaxBins)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (maxBins is < 2 or > MaxBins)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBins), maxBins, $"maxBins must be between 2 and {MaxBins}.");
        }

        var boundaries = new double[features.Columns][];
        var column = new double[features.Rows];
        for (var f = 0; f < features.Columns; f++)
        {
            var count = 0;
            for (var r = 0; r < features.Rows; r++)
            {
                var v = features[r, f];
                if (!double.IsNaN(v))
                {
                    column[count++] = v;
                }
            }

            boundaries[f] = BoundariesOf(column.AsSpan(0, count), maxBins);
        }

        return new FeatureBinner(boundaries);
    }

    private static double[] BoundariesOf(Span<double> values, int maxBins)
    {
        values.Sort();
        var distinct = new List<(double Value, int Count)>();
        foreach (var v in values)
        {
            if (distinct.Count > 0 && distinct[^1].Value == v)
            {
                distinct[^1] = (v, distinct[^1].Count + 1);
            }
            else
            {
                distinct.Add((v, 1));
            }
        }

        if (distinct.Count <= 1)
        {
            return [];
        }

        var result = new List<double>();
        if (distinct.Count <= maxBins)
        {
            for (var i = 0; i + 1 < distinct.Count; i++)
            {
                result.Add(Midpoint(distinct[i].Value, distinct[i + 1].Value));
            }

            return [.. result];
        }

        // Equal-frequency bins: close a bin once it holds its share of the rows.
        var perBin = (double)values.Length / maxBins;
        var inBin = 0;
        for (var i = 0; i + 1 < distinct.Count && result.Count < maxBins - 1; i++)
        {
            inBin += distinct[i].Count;
            if (inBin >= perBin)
            {
                result.Add(Midpoint(distinct[i].Value, distinct[i + 1].Value));
                inBin = 0;
            }
        }

        return [.. result];
    }

    private static double Midpoint(double a, double b)
    {
        var mid = a + ((b - a) / 2);
        return mid < b ? mid : a; // guards against rounding up to b for adjacent doubles
    }

    public byte BinOf(int feature, double value)
    {
        if (double.IsNaN(value))
        {
            return 0;
        }

        var bounds = Boundaries[feature];
        var index = Array.BinarySearch(bounds, value);
        return (byte)(index >= 0 ? index : ~index);
    }

    /// <summary>Bins every row of <paramref name="features"/> (row-major bytes).</summary>
    public BinnedDataset Transform(FeatureMatrix features)
    {
        var bins = new byte[features.Rows * features.Columns];
        Parallel.For(0, features.Columns, f =>
        {
            for (var r = 0; r < features.Rows; r++)
            {
                bins[(r * features.Columns) + f] = BinOf(f, features[r, f]);
            }
        });
        return new BinnedDataset(this, bins, features.Rows);
    }
}

/// <summary>
/// A data set binned once and shared: every learner, fold and configuration of a search can train on row subsets
/// of it without binning again. Bins are row-major (one row's features are adjacent in memory).
/// </summary>
public sealed class BinnedDataset
{
    internal BinnedDataset(FeatureBinner binner, byte[] bins, int rows)
    {
        Binner = binner;
        Bins = bins;
        Rows = rows;
        Columns = binner.FeatureCount;
        Offsets = new int[Columns + 1];
        for (var f = 0; f < Columns; f++)
        {
            Offsets[f + 1] = Offsets[f] + binner.BinCount(f);
        }
    }

    public FeatureBinner Binner { get; }

    public int Rows { get; }

    public int Columns { get; }

    internal byte[] Bins { get; }

    /// <summary>Start of each feature's bins in a flat histogram; Offsets[Columns] = total bins.</summary>
    internal int[] Offsets { get; }

    public int TotalBins => Offsets[Columns];

    public static BinnedDataset Create(FeatureMatrix features, int maxBins = FeatureBinner.MaxBins) =>
        FeatureBinner.Fit(features, maxBins).Transform(features);

    public byte Bin(int row, int feature) => Bins[(row * Columns) + feature];

    /// <summary>The real-valued threshold of a split that sends bins ≤ <paramref name="bin"/> left.</summary>
    public double Threshold(int feature, int bin) => Binner.Boundaries[feature][bin];
}
