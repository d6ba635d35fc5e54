namespace NetworkSecurity.Learning.Metrics;

/// <summary>Mean squared difference between P(label 1) and the label (0 or 1), as scikit-learn's brier_score_loss: lower is better.</summary>
public static class BrierScore
{
    public static double Compute(ReadOnlySpan<int> labels, ReadOnlySpan<double> probabilities)
    {
        MetricInput.Check(labels, probabilities);

        if (labels.Length == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            if (!(probabilities[i] is >= 0 and <= 1))
            {
                // As scikit-learn's brier_score_loss: a score outside [0, 1] is not a probability.
                throw new ArgumentOutOfRangeException(nameof(probabilities), probabilities[i], $"probabilities[{i}] is {probabilities[i]}; a probability is in [0, 1].");
            }

            var d = probabilities[i] - labels[i];
            sum += d * d;
        }

        return sum / labels.Length;
    }
}
