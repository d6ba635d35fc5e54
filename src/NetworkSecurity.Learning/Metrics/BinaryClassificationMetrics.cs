namespace NetworkSecurity.Learning.Metrics;

/// <summary>Scores of a binary classifier for one choice of positive label.</summary>
public sealed record BinaryClassificationMetrics(
    double F1,
    double Precision,
    double Recall,
    double Accuracy,
    double RocAuc,
    int TruePositives,
    int FalsePositives,
    int TrueNegatives,
    int FalseNegatives)
{
    /// <summary>
    /// Computes the metrics with <paramref name="positiveLabel"/> (0 or 1) as the positive class.
    /// <paramref name="probabilities"/> are P(label = 1); for positive label 0 the score is 1 - p.
    /// Undefined ratios (no predicted or no actual positives) are 0, as scikit-learn reports with zero_division=0.
    /// Classes come from <see cref="DecisionRule"/>, the rule the API and the CLI use.
    /// </summary>
    public static BinaryClassificationMetrics Compute(ReadOnlySpan<int> labels, ReadOnlySpan<double> probabilities, int positiveLabel)
    {
        MetricInput.Check(labels, probabilities);
        CheckPositiveLabel(positiveLabel);
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var predicted = DecisionRule.PredictLabel(probabilities[i]);
            var actualPositive = labels[i] == positiveLabel;
            var predictedPositive = predicted == positiveLabel;
            if (predictedPositive)
            {
                if (actualPositive)
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }
            else if (actualPositive)
            {
                fn++;
            }
            else
            {
                tn++;
            }
        }

        var precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        var recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        var f1 = tp == 0 ? 0 : 2.0 * tp / ((2.0 * tp) + fp + fn);
        var accuracy = labels.Length == 0 ? 0 : (double)(tp + tn) / labels.Length;
        var auc = ComputeRocAuc(labels, probabilities, positiveLabel);
        return new BinaryClassificationMetrics(f1, precision, recall, accuracy, auc, tp, fp, tn, fn);
    }

    /// <summary>
    /// Area under the ROC curve via the rank statistic (Mann-Whitney U), ties counted half, as scikit-learn's
    /// roc_auc_score. NaN when only one class is present.
    /// </summary>
    public static double ComputeRocAuc(ReadOnlySpan<int> labels, ReadOnlySpan<double> probabilities, int positiveLabel = 1)
    {
        MetricInput.Check(labels, probabilities); // a shorter probabilities span was an IndexOutOfRangeException, a longer one cut silently
        CheckPositiveLabel(positiveLabel);
        var n = labels.Length;
        var order = new int[n];
        var scores = new double[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
            scores[i] = positiveLabel == 1 ? probabilities[i] : 1.0 - probabilities[i];
        }

        Array.Sort((double[])scores.Clone(), order);
        long positives = 0;
        for (var i = 0; i < n; i++)
        {
            positives += labels[i] == positiveLabel ? 1 : 0;
        }

        var negatives = n - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        // Sum of the (average, for ties) ranks of the positives.
        double rankSum = 0;
        for (var i = 0; i < n;)
        {
            var j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]])
            {
                j++;
            }

            var averageRank = ((i + j) / 2.0) + 1;
            for (var k = i; k <= j; k++)
            {
                if (labels[order[k]] == positiveLabel)
                {
                    rankSum += averageRank;
                }
            }

            i = j + 1;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }

    private static void CheckPositiveLabel(int positiveLabel)
    {
        if (positiveLabel is not (0 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(positiveLabel), positiveLabel, "positiveLabel must be 0 or 1.");
        }
    }
}
