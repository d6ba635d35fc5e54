namespace NetworkSecurity.Learning.Metrics;

/// <summary>Mean squared difference between P(label 1) and the label (0 or 1), as scikit-learn's brier_score_loss: lower is better.</summary>
public static class BrierScore
{
    public static double Compute(ReadOnlySpan<int> labels, ReadOnlySpan<double> probabilities)
    {
        if (labels.Length != probabilities.Length)
        {
            throw new ArgumentException($"labels ({labels.Length}) and probabilities ({probabilities.Length}) must have the same length.", nameof(probabilities));
        }

        if (labels.Length == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var d = probabilities[i] - labels[i];
            sum += d * d;
        }

        return sum / labels.Length;
    }
}
