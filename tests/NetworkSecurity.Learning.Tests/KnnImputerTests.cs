using System.Text.Json;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Imputation;

namespace NetworkSecurity.Learning.Tests;

/// <summary>
/// Checks against scikit-learn 1.2 KNNImputer on every case of Reference/knn_imputer.json: to 1e-9 where the file
/// gives one value, within [min, max] where donors tie at the k-th distance (our tie-break: lowest training row first).
/// </summary>
public sealed class KnnImputerTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in ReferenceData.Load("knn_imputer.json").GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reproduces_scikit_learn(string name)
    {
        var c = ReferenceData.Load("knn_imputer.json").GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var fit = ReferenceData.Matrix(c.GetProperty("fit"));
        var imputer = KnnImputer.Fit(fit, c.GetProperty("n_neighbors").GetInt32());

        Check(imputer.Transform(ReferenceData.Matrix(c.GetProperty("transform_input"))), c, "expected", "expected_min", "expected_max");
        Check(imputer.Transform(fit), c, "expected_fit_transform", "expected_fit_transform_min", "expected_fit_transform_max");
    }

    private static void Check(FeatureMatrix actual, JsonElement c, string expected, string min, string max)
    {
        var exact = ReferenceData.Matrix(c.GetProperty(expected));
        var low = ReferenceData.Matrix(c.GetProperty(min));
        var high = ReferenceData.Matrix(c.GetProperty(max));
        for (var r = 0; r < actual.Rows; r++)
        {
            for (var f = 0; f < actual.Columns; f++)
            {
                var value = actual[r, f];
                Assert.False(double.IsNaN(value), $"row {r} column {f} left missing");
                if (low[r, f] == high[r, f])
                {
                    Assert.True(Math.Abs(value - exact[r, f]) <= 1e-9, $"{expected} row {r} column {f}: {value} vs {exact[r, f]}");
                }
                else
                {
                    Assert.InRange(value, low[r, f] - 1e-9, high[r, f] + 1e-9);
                }
            }
        }
    }

    [Fact]
    public void Uses_the_k_nearest_donors_and_the_lowest_row_on_ties()
    {
        // Donors for column 1 at distances 0, 1, 1, 2 from the query (0, NaN): k = 2 takes rows 0 and 1.
        var fit = FeatureMatrix.FromRows([[0, 10], [1, 20], [-1, 30], [2, 40]]);
        var result = KnnImputer.Fit(fit, 2).Transform(FeatureMatrix.FromRows([[0, double.NaN]]));
        Assert.Equal(15.0, result[0, 1]);
    }

    [Fact]
    public void An_infinity_in_the_donors_or_the_rows_is_refused_naming_its_cell()
    {
        // Before: a donor's Infinity was averaged into the value filled (an imputed Infinity), and a query's made every
        // distance infinite; scikit-learn refuses both.
        var donors = FeatureMatrix.FromRows([[1, double.PositiveInfinity], [2, 2], [3, 3]]);
        var fit = Assert.Throws<ArgumentException>(() => KnnImputer.Fit(donors, 2));
        Assert.Contains("features[0, 1] is Infinity", fit.Message, StringComparison.Ordinal);

        var imputer = KnnImputer.Fit(FeatureMatrix.FromRows([[1, 1], [2, 2], [3, double.NaN]]), 2);
        var transform = Assert.Throws<ArgumentException>(() => imputer.Transform(FeatureMatrix.FromRows([[0, 0], [double.NegativeInfinity, double.NaN]])));
        Assert.Contains("features[1, 0] is -Infinity", transform.Message, StringComparison.Ordinal);
        Assert.Equal(1.5, imputer.Transform(FeatureMatrix.FromRows([[1, double.NaN]]))[0, 1]);
    }

    [Fact]
    public void A_row_sharing_no_coordinate_with_any_donor_gets_the_column_mean()
    {
        var fit = FeatureMatrix.FromRows([[1, double.NaN], [3, double.NaN], [double.NaN, 5]]);
        var result = KnnImputer.Fit(fit, 3).Transform(FeatureMatrix.FromRows([[double.NaN, 7]]));
        Assert.Equal(2.0, result[0, 0]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Round_trips_through_its_binary_form(bool donorsWithHoles, bool nonTernaryDonor)
    {
        var (x, _) = ReferenceData.PhishingData();
        var donors = x.SelectRows(Enumerable.Range(0, 501).ToArray());
        if (donorsWithHoles)
        {
            for (var r = 0; r < donors.Rows; r += 7)
            {
                donors[r, (r * 11) % 30] = double.NaN;
            }
        }

        if (nonTernaryDonor)
        {
            donors[3, 4] = 0.25;
        }

        var imputer = KnnImputer.Fit(donors, 3);
        var holes = x.SelectRows(Enumerable.Range(600, 50).ToArray());
        for (var r = 0; r < holes.Rows; r++)
        {
            holes[r, r % 30] = double.NaN;
            holes[r, (r + 9) % 30] = double.NaN;
        }

        var bytes = Serialize(imputer);
        var copy = KnnImputer.ReadFrom(new BinaryReader(new MemoryStream(bytes)));
        Assert.Equal(imputer.Transform(holes).Values, copy.Transform(holes).Values);

        // Ternary donors are packed two bits a value; any other value keeps the eight-byte form.
        var values = 501 * 30;
        Assert.InRange(bytes.Length, nonTernaryDonor ? values * 8 : values / 4, nonTernaryDonor ? (values * 8) + 64 : (values / 4) + 64);
    }

    [Fact]
    public void Packed_donors_read_back_exactly_including_missing_values_and_a_partial_last_byte()
    {
        // 3 × 3 = 9 values: the last byte holds one value.
        var donors = FeatureMatrix.FromRows([[-1, 0, 1], [double.NaN, 1, -1], [0, double.NaN, 1]]);
        var copy = KnnImputer.ReadFrom(new BinaryReader(new MemoryStream(Serialize(KnnImputer.Fit(donors, 2)))));
        var query = FeatureMatrix.FromRows([[double.NaN, 0, 1], [1, double.NaN, double.NaN], [-1, 1, double.NaN]]);
        Assert.Equal(KnnImputer.Fit(donors, 2).Transform(query).Values, copy.Transform(query).Values);
        Assert.Equal(2, copy.Neighbors);
        Assert.Equal(3, copy.FeatureCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(40)]
    public void A_header_promising_more_donors_than_the_file_holds_is_refused_before_allocating(int truncateBy)
    {
        var (x, _) = ReferenceData.PhishingData();
        var bytes = Serialize(KnnImputer.Fit(x.SelectRows(Enumerable.Range(0, 100).ToArray()), 3));
        var truncated = new MemoryStream(bytes, 0, bytes.Length - truncateBy);
        Assert.Throws<InvalidDataException>(() => KnnImputer.ReadFrom(new BinaryReader(truncated)));

        // The row count in the header (after the name, version and neighbours) raised to a billion rows.
        var forged = (byte[])bytes.Clone();
        BitConverter.GetBytes(1_000_000_000).CopyTo(forged, "knn_imputer".Length + 1 + 8);
        Assert.Throws<InvalidDataException>(() => KnnImputer.ReadFrom(new BinaryReader(new MemoryStream(forged))));
    }

    /// <summary><paramref name="rows"/> with <paramref name="holes"/> values missing at random cells.</summary>
    private static FeatureMatrix WithHoles(FeatureMatrix rows, int holes, Random random)
    {
        for (var i = 0; i < holes; i++)
        {
            rows[random.Next(rows.Rows), random.Next(rows.Columns)] = double.NaN;
        }

        return rows;
    }

    private static byte[] Serialize(KnnImputer imputer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            imputer.WriteTo(writer);
        }

        return stream.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_distinct_vector_index_gives_exactly_the_row_by_row_result(bool donorsWithHoles)
    {
        var (x, _) = ReferenceData.PhishingData();
        var random = new Random(7);
        var donors = WithHoles(x.SelectRows(Enumerable.Range(0, 4000).ToArray()), donorsWithHoles ? 600 : 0, random);

        var queries = x.SelectRows(Enumerable.Range(4000, 3000).ToArray());
        for (var r = 0; r < queries.Rows; r++)
        {
            var holes = 1 + (r % 20); // up to 20 of 30 missing; ties at the k-th distance are common on this data
            for (var h = 0; h < holes; h++)
            {
                queries[r, random.Next(30)] = double.NaN;
            }
        }

        // Each query twice: the second copy is answered from the batch's cache of (missing pattern, observed values).
        queries = new FeatureMatrix([.. queries.Values, .. queries.Values], queries.Rows * 2, queries.Columns);
        var imputer = KnnImputer.Fit(donors, 3);
        Assert.True(imputer.UsesIndex);
        var indexed = imputer.Transform(queries);
        var rowByRow = KnnImputer.Fit(donors, 3, useIndex: false).Transform(queries);
        Assert.Equal(rowByRow.Values, indexed.Values);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void The_pigeonhole_pre_filter_gives_exactly_the_row_by_row_result(int neighbors)
    {
        // Complete donors: the (distance, row) search first looks at the donors matching a query exactly on one group of
        // columns. Rows with 1-6 random holes reach it (close neighbours) and its fallback (none close enough); a query
        // far from every donor (flipped signs) always falls back.
        var (x, _) = ReferenceData.PhishingData();
        var random = new Random(11 * neighbors);
        var donors = x.SelectRows(Enumerable.Range(0, 6000).ToArray());
        var queries = x.SelectRows(Enumerable.Range(3000, 6000).ToArray());
        for (var r = 0; r < queries.Rows; r++)
        {
            if (r % 10 == 0)
            {
                for (var c = 0; c < queries.Columns; c++)
                {
                    queries[r, c] = -queries[r, c];
                }
            }

            var holes = 1 + (r % 6);
            for (var h = 0; h < holes; h++)
            {
                queries[r, random.Next(30)] = double.NaN;
            }
        }

        var imputer = KnnImputer.Fit(donors, neighbors);
        Assert.True(imputer.UsesIndex);
        var indexed = imputer.Transform(queries);
        var rowByRow = KnnImputer.Fit(donors, neighbors, useIndex: false).Transform(queries);
        Assert.Equal(rowByRow.Values, indexed.Values);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Queries_with_other_values_get_exactly_the_row_by_row_result_from_the_index(bool donorsWithHoles)
    {
        // The index holds ternary donors alone; a query holding 0.5 or 3 is measured against its vectors in doubles.
        var (x, _) = ReferenceData.PhishingData();
        var random = new Random(5);
        var donors = WithHoles(x.SelectRows(Enumerable.Range(0, 3000).ToArray()), donorsWithHoles ? 400 : 0, random);

        var queries = x.SelectRows(Enumerable.Range(3000, 1500).ToArray());
        double[] odd = [0.5, -0.25, 3, 1e-9, -0.0];
        for (var r = 0; r < queries.Rows; r++)
        {
            queries[r, random.Next(30)] = odd[r % odd.Length];
            for (var h = 0; h < 1 + (r % 8); h++)
            {
                queries[r, random.Next(30)] = double.NaN;
            }
        }

        var imputer = KnnImputer.Fit(donors, 3);
        Assert.True(imputer.UsesIndex);
        Assert.Equal(KnnImputer.Fit(donors, 3, useIndex: false).Transform(queries).Values, imputer.Transform(queries).Values);
    }

    [Fact]
    public void Values_outside_minus_one_to_one_use_the_row_by_row_search()
    {
        Assert.False(KnnImputer.Fit(FeatureMatrix.FromRows([[0, 10], [1, 20]]), 1).UsesIndex);
        var imputer = KnnImputer.Fit(FeatureMatrix.FromRows([[0, 1], [1, -1], [-1, 0]]), 1);
        Assert.True(imputer.UsesIndex);
        Assert.Equal(-1.0, imputer.Transform(FeatureMatrix.FromRows([[0.9, double.NaN]]))[0, 1]); // nearest: (1, -1)
    }

    [Fact]
    public void Transform_stops_when_cancelled()
    {
        var (x, _) = ReferenceData.PhishingData();
        var queries = x.SelectRows(Enumerable.Range(0, 2000).ToArray());
        for (var r = 0; r < queries.Rows; r++)
        {
            queries[r, 3] = double.NaN;
        }

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => KnnImputer.Fit(x, 3).Transform(queries, cancelled.Token));
    }
}
