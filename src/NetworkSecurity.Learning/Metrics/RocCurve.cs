namespace NetworkSecurity.Learning.Metrics;

public sealed record RocPoint(double FalsePositiveRate, double TruePositiveRate, double Threshold);

/// <summary>ROC curve points (label 1 positive), as scikit-learn's roc_curve with drop_intermediate=False.</summary>
public static class RocCurve
{
    public static IReadOnlyList<RocPoint> Compute(ReadOnlySpan<int> labels, ReadOnlySpan<double> probabilities)
    {
        MetricInput.Check(labels, probabilities);

        var order = new int[labels.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var scores = probabilities.ToArray();
        Array.Sort(order, (a, b) => scores[b].CompareTo(scores[a]));
        double positives = 0;
        foreach (var label in labels)
        {
            positives += label == 1 ? 1 : 0;
        }

        var negatives = labels.Length - positives;
        var points = new List<RocPoint> { new(0, 0, double.PositiveInfinity) };
        double tp = 0, fp = 0;
        for (var i = 0; i < order.Length; i++)
        {
            if (labels[order[i]] == 1)
            {
                tp++;
            }
            else
            {
                fp++;
            }

            // One point per distinct threshold.
            if (i == order.Length - 1 || scores[order[i + 1]] != scores[order[i]])
            {
                points.Add(new RocPoint(negatives == 0 ? 0 : fp / negatives, positives == 0 ? 0 : tp / positives, scores[order[i]]));
            }
        }

        return points;
    }
}
