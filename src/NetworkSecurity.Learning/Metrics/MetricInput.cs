namespace NetworkSecurity.Learning.Metrics;

/// <summary>
/// What every metric checks first: one probability per label, and labels 0 or 1. The data set codes its classes -1
/// and 1; with those labels the phishing view (positive label 0) counted no positives and the Brier score squared
/// p + 1, silently.
/// </summary>
internal static class MetricInput
{
    public static void Check(ReadOnlySpan<int> labels, ReadOnlySpan<double> probabilities)
    {
        if (labels.Length != probabilities.Length)
        {
            throw new ArgumentException($"labels ({labels.Length}) and probabilities ({probabilities.Length}) must have the same length.", nameof(probabilities));
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] is not (0 or 1))
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] is {labels[i]}; labels must be 0 or 1 (map the data set's -1 to 0 first).");
            }
        }
    }
}
