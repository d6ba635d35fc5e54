using System.Text.Json;
using NetworkSecurity.Learning.Statistics;
using Xunit.Abstractions;

namespace NetworkSecurity.Learning.Tests;

/// <summary>
/// Checks the asymptotic path (larger sample above 10,000 values) against scipy 1.10 on Reference/ks_2samp_asymptotic.json,
/// written by Reference/ks_2samp_asymptotic.py: ks_2samp(method="auto") on ternary columns, kstwo.sf on a grid that
/// reaches every branch of scipy's _kolmogn, and scipy.special.smirnov from n = 1 to 2,000,000.
/// </summary>
public sealed class KolmogorovSmirnovAsymptoticTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-10;
    private const double SmallestNormal = 2.2250738585072014E-308;

    private static readonly Lazy<JsonElement> Reference = new(() => ReferenceData.Load("ks_2samp_asymptotic.json"));

    public static TheoryData<string> TwoSampleCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Reference.Value.GetProperty("two_sample").EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TwoSampleCases))]
    public void Two_sample_matches_scipy(string name)
    {
        var c = Reference.Value.GetProperty("two_sample").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var a = Sample(c.GetProperty("a_counts"), seed: 1);
        var b = Sample(c.GetProperty("b_counts"), seed: 2);

        var result = KolmogorovSmirnov.TwoSample(a, b);

        Assert.Equal(KsMethod.Asymptotic, result.Method);
        Assert.Equal(c.GetProperty("statistic").GetDouble(), result.Statistic, 1e-15);
        var p = c.GetProperty("pvalue").GetDouble();
        output.WriteLine($"{c.GetProperty("branch").GetString()}: p {result.PValue:R}, scipy {p:R}, relative error {RelativeError(result.PValue, p):E2}");
        Assert.True(RelativeError(result.PValue, p) <= Tolerance, $"{c.GetProperty("branch").GetString()}: p-value {result.PValue:R}, scipy {p:R}");
    }

    [Fact]
    public void Kolmogorov_sf_matches_scipy_kstwo_on_every_branch()
    {
        var failures = new List<string>();
        var worst = new SortedDictionary<string, (double Error, int Rows)>(StringComparer.Ordinal);
        foreach (var row in Reference.Value.GetProperty("kstwo_sf").EnumerateArray())
        {
            int n = row.GetProperty("n").GetInt32();
            double x = row.GetProperty("x").GetDouble(), expected = row.GetProperty("sf").GetDouble();
            var branch = row.GetProperty("branch").GetString()!;
            var actual = KolmogorovDistribution.Sf(n, x);
            var error = RelativeError(actual, expected);
            var (max, rows) = worst.GetValueOrDefault(branch);
            worst[branch] = (Math.Max(max, error), rows + 1);
            if (!(error <= Tolerance))
            {
                failures.Add($"kstwo.sf({x:R}, {n}) [{branch}]: {actual:R}, scipy {expected:R}");
            }
        }

        foreach (var (branch, (error, rows)) in worst)
        {
            output.WriteLine($"{branch}: {rows} rows, max relative error {error:E2}");
        }

        Assert.True(worst.Count >= 12, "the grid should reach every branch of _kolmogn");
        Assert.Empty(failures);
    }

    [Fact]
    public void Smirnov_matches_scipy_special_smirnov()
    {
        var failures = new List<string>();
        var worst = 0.0;
        var rows = 0;
        foreach (var row in Reference.Value.GetProperty("smirnov").EnumerateArray())
        {
            int n = row.GetProperty("n").GetInt32();
            double x = row.GetProperty("x").GetDouble(), expected = row.GetProperty("sf").GetDouble();
            var actual = KolmogorovDistribution.Smirnov(n, x);
            var error = RelativeError(actual, expected);
            worst = Math.Max(worst, error);
            rows++;
            if (!(error <= Tolerance))
            {
                failures.Add($"smirnov({n}, {x:R}): {actual:R}, scipy {expected:R}");
            }
        }

        output.WriteLine($"smirnov: {rows} rows, max relative error {worst:E2}");
        Assert.Empty(failures);
    }

    /// <summary>The column the counts describe, shuffled with a seeded generator (the test depends only on the counts).</summary>
    private static double[] Sample(JsonElement counts, int seed)
    {
        var c = counts.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var values = new double[c.Sum()];
        var index = 0;
        for (var v = 0; v < 3; v++)
        {
            for (var i = 0; i < c[v]; i++)
            {
                values[index++] = v - 1;
            }
        }

        new Random(seed).Shuffle(values);
        return values;
    }

    /// <summary>
    /// |actual - expected| / |expected|, so an exact 0 must be matched exactly. Below the smallest normal double a value
    /// carries fewer digits (scipy's as much as ours), so there the error is taken relative to that smallest normal.
    /// </summary>
    private static double RelativeError(double actual, double expected)
    {
        if (expected == 0)
        {
            return actual == 0 ? 0 : double.PositiveInfinity;
        }

        var error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), SmallestNormal);
        return double.IsNaN(error) ? double.PositiveInfinity : error;
    }
}
