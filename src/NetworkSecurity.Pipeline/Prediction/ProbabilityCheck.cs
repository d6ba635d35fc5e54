namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>Finds scores that are not probabilities (NaN, or outside [0, 1]): what a model gives when its arithmetic
/// overflows on feature values far outside those it learned from.</summary>
public static class ProbabilityCheck
{
    /// <summary>How many of <paramref name="probabilities"/> are not a number in [0, 1], and the index of the first (-1
    /// when there is none).</summary>
    public static (int Count, int First) NotProbabilities(ReadOnlySpan<double> probabilities)
    {
        var count = 0;
        var first = -1;
        for (var i = 0; i < probabilities.Length; i++)
        {
            if (!(probabilities[i] >= 0 && probabilities[i] <= 1))
            {
                count++;
                first = first < 0 ? i : first;
            }
        }

        return (count, first);
    }
}
