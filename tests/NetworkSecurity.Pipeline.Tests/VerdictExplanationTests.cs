using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class VerdictExplanationTests
{
    [Theory]
    [InlineData(-1.0, "SSLfinal_State = -1 (+2.1)")]
    [InlineData(0.7173666, "SSLfinal_State = 0.717 (+2.1)")]
    [InlineData(1e-7, "SSLfinal_State = 1E-07 (+2.1)")] // read "= 0" (the page's why column)
    [InlineData(-0.000001234, "SSLfinal_State = -1.23E-06 (+2.1)")] // read "= -0"
    [InlineData(0.0004, "SSLfinal_State = 0.0004 (+2.1)")] // read "= 0"
    [InlineData(0.0005, "SSLfinal_State = 0.001 (+2.1)")]
    [InlineData(123456789.123, "SSLfinal_State = 123456789.123 (+2.1)")]
    public void The_words_show_the_value_the_model_saw_also_for_small_float_values(double value, string expected) =>
        Assert.Equal(expected, new FeatureContribution("SSLfinal_State", value, false, 2.1).InWords());

    [Theory]
    [InlineData(2.1, "SSLfinal_State = -1 (+2.1)")]
    [InlineData(-1.2604, "SSLfinal_State = -1 (-1.26)")]
    [InlineData(3.000087, "SSLfinal_State = -1 (+3.0)")]
    [InlineData(-0.000047, "SSLfinal_State = -1 (-4.7E-05)")] // read "(0)": a contribution, as if the feature had none
    [InlineData(0.0004, "SSLfinal_State = -1 (+0.0004)")] // read "(0)"
    [InlineData(0.0, "SSLfinal_State = -1 (0)")]
    public void The_words_show_a_contribution_below_a_thousandth_rather_than_zero(double contribution, string expected) =>
        Assert.Equal(expected, new FeatureContribution("SSLfinal_State", -1, false, contribution).InWords());
}
