using NetworkSecurity.Learning.Statistics;

namespace NetworkSecurity.Learning.Tests;

/// <summary>
/// Checks against scipy 1.10 ks_2samp(method="auto") on every case of Reference/ks_2samp.json. All cases are at sizes
/// where scipy's auto chooses the exact method, which is the one implemented and compared here.
/// </summary>
public sealed class KolmogorovSmirnovTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in ReferenceData.Load("ks_2samp.json").GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_scipy_exact_statistic_and_p_value(string name)
    {
        var c = ReferenceData.Load("ks_2samp.json").GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var result = KolmogorovSmirnov.TwoSample(ReferenceData.Doubles(c.GetProperty("a")), ReferenceData.Doubles(c.GetProperty("b")));
        var expected = c.GetProperty("auto");

        Assert.Equal(KsMethod.Exact, result.Method);
        Assert.Equal(expected.GetProperty("statistic").GetDouble(), result.Statistic, 1e-6);
        var p = expected.GetProperty("pvalue").GetDouble();
        Assert.True(Math.Abs(result.PValue - p) <= 1e-4 * p, $"p-value {result.PValue:R}, scipy {p:R}");
    }

    [Fact]
    public void Tiny_hand_checked_case()
    {
        // a = {1,2,3}, b = {4,5,6}: the empirical CDFs differ by 1 at t = 3; P(D ≥ 1) = 2 / C(6,3) = 0.1.
        var result = KolmogorovSmirnov.TwoSample([1, 2, 3], [4, 5, 6]);
        Assert.Equal(1.0, result.Statistic);
        Assert.Equal(0.1, result.PValue, 12);
    }

    [Fact]
    public void Empty_sample_is_an_error() =>
        Assert.Throws<ArgumentException>(() => KolmogorovSmirnov.TwoSample([], [1.0]));

    [Fact]
    public void A_missing_value_in_either_sample_is_an_error_naming_it()
    {
        // Before: NaN sorts first and compares false with everything, so the walk over both samples never advanced
        // and the call never returned.
        var a = Assert.Throws<ArgumentException>(() => KolmogorovSmirnov.TwoSample([0.5, double.NaN, 2], [1, 2, 3]));
        Assert.Equal("a", a.ParamName);
        Assert.Contains("a[1] is NaN", a.Message, StringComparison.Ordinal);
        var b = Assert.Throws<ArgumentException>(() => KolmogorovSmirnov.TwoSample([0.5, 1, 2], [1, 2, double.NaN]));
        Assert.Contains("b[2] is NaN", b.Message, StringComparison.Ordinal);

        // Infinities are values (scipy takes them): only NaN is refused.
        Assert.Equal(1.0 / 3, KolmogorovSmirnov.TwoSample([double.NegativeInfinity, 1, 2], [1, 2, double.PositiveInfinity]).Statistic, 12);
    }
}
