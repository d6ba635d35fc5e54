using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class ProbabilityCheckTests
{
    [Fact]
    public void Counts_what_is_not_a_number_in_zero_to_one_and_finds_the_first()
    {
        Assert.Equal((0, -1), ProbabilityCheck.NotProbabilities([0.0, 0.5, 1.0]));
        Assert.Equal((3, 1), ProbabilityCheck.NotProbabilities([0.2, double.NaN, 1.0000001, 0.7, -1e-12]));
        Assert.Equal((2, 0), ProbabilityCheck.NotProbabilities([double.PositiveInfinity, double.NegativeInfinity]));
        Assert.Equal((0, -1), ProbabilityCheck.NotProbabilities([]));
    }
}
