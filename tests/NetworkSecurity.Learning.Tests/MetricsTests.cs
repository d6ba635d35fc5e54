using NetworkSecurity.Learning.Metrics;

namespace NetworkSecurity.Learning.Tests;

public sealed class MetricsTests
{
    private static readonly int[] Labels = [1, 1, 1, 0, 0, 1, 0, 0];
    private static readonly double[] Scores = [0.9, 0.8, 0.4, 0.7, 0.2, 0.6, 0.1, 0.55];

    [Fact]
    public void Counts_and_ratios_with_either_class_positive()
    {
        // Predicted 1: rows 0,1,3,5,7 → TP 3 (0,1,5), FP 2 (3,7); FN 1 (2); TN 2 (4,6).
        var legit = BinaryClassificationMetrics.Compute(Labels, Scores, positiveLabel: 1);
        Assert.Equal((3, 2, 2, 1), (legit.TruePositives, legit.FalsePositives, legit.TrueNegatives, legit.FalseNegatives));
        Assert.Equal(0.6, legit.Precision, 12);
        Assert.Equal(0.75, legit.Recall, 12);
        Assert.Equal(2 * 0.6 * 0.75 / 1.35, legit.F1, 12);
        Assert.Equal(5 / 8.0, legit.Accuracy, 12);

        var phishing = BinaryClassificationMetrics.Compute(Labels, Scores, positiveLabel: 0);
        Assert.Equal((2, 1, 3, 2), (phishing.TruePositives, phishing.FalsePositives, phishing.TrueNegatives, phishing.FalseNegatives));
        Assert.Equal(legit.Accuracy, phishing.Accuracy);
        Assert.Equal(legit.RocAuc, phishing.RocAuc, 12);
    }

    [Fact]
    public void Auc_counts_ties_as_half_like_scikit_learn()
    {
        // Positives {0.9, 0.8, 0.4, 0.6} vs negatives {0.7, 0.2, 0.1, 0.55}: 13 of 16 pairs ordered → 0.8125.
        Assert.Equal(0.8125, BinaryClassificationMetrics.ComputeRocAuc(Labels, Scores), 12);
        Assert.Equal(0.5, BinaryClassificationMetrics.ComputeRocAuc([1, 0], [0.3, 0.3]), 12);
        Assert.True(double.IsNaN(BinaryClassificationMetrics.ComputeRocAuc([1, 1], [0.3, 0.4])));
    }

    [Fact]
    public void Roc_curve_runs_from_origin_to_one_one_through_each_threshold()
    {
        var curve = RocCurve.Compute(Labels, Scores);
        Assert.Equal((0.0, 0.0), (curve[0].FalsePositiveRate, curve[0].TruePositiveRate));
        Assert.Equal((1.0, 1.0), (curve[^1].FalsePositiveRate, curve[^1].TruePositiveRate));
        Assert.Equal(9, curve.Count);
        Assert.Equal((0.25, 0.5), (curve[3].FalsePositiveRate, curve[3].TruePositiveRate)); // after 0.9, 0.8, 0.7
    }
}
