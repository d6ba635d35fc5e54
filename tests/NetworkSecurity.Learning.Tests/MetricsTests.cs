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
    public void A_probability_exactly_at_the_threshold_is_phishing_in_every_view()
    {
        // P(legitimate) = 0.5 ⇔ P(phishing) = 0.5: the API's rule (phishing ≥ 0.5) and the metrics must agree.
        Assert.True(DecisionRule.IsPhishing(0.5));
        Assert.Equal(0, DecisionRule.PredictLabel(0.5));
        Assert.Equal(1, DecisionRule.PredictLabel(Math.BitIncrement(0.5)));
        Assert.False(DecisionRule.IsPhishing(1.0 - Math.BitIncrement(0.5)));
        Assert.True(DecisionRule.IsPhishing(double.NaN));
        foreach (var p in new[] { 0.0, 1e-300, 0.1, 0.25, 0.3, 0.49999999999999994, 0.5, 0.5000000000000001, 0.7, 0.9999999999999999, 1.0 })
        {
            Assert.Equal(DecisionRule.IsPhishing(1.0 - p), DecisionRule.PredictLabel(p) == 0);
        }

        var legit = BinaryClassificationMetrics.Compute([1, 0], [0.5, 0.5], positiveLabel: 1);
        Assert.Equal((0, 0, 1, 1), (legit.TruePositives, legit.FalsePositives, legit.TrueNegatives, legit.FalseNegatives));
        var phishing = BinaryClassificationMetrics.Compute([1, 0], [0.5, 0.5], positiveLabel: 0);
        Assert.Equal((1, 1, 0, 0), (phishing.TruePositives, phishing.FalsePositives, phishing.TrueNegatives, phishing.FalseNegatives));
    }

    [Fact]
    public void A_displayed_probability_never_crosses_the_threshold_its_verdict_is_on()
    {
        Assert.Equal(0.4999, DecisionRule.Rounded(0.4999749683, 4)); // a legitimate site, not "0.5000"
        Assert.Equal(0.499999, DecisionRule.Rounded(0.4999997, 6));
        Assert.Equal(0.5, DecisionRule.Rounded(0.5, 4)); // exactly at the threshold: phishing, and shown so
        Assert.Equal(0.5, DecisionRule.Rounded(0.50004, 4));
        Assert.Equal(0.4998, DecisionRule.Rounded(0.49975, 4)); // away from the threshold: ordinary rounding
        Assert.Equal(0.937267, DecisionRule.Rounded(0.937266927088332, 6));
        Assert.Equal(0.0, DecisionRule.Rounded(1e-9, 6));
        Assert.Equal(1.0, DecisionRule.Rounded(0.9999999, 6));
        foreach (var p in new[] { 0.49995, 0.499950001, 0.4999999999999999, 0.49999949, 0.4999995, 0.5000001, 0.75 })
        {
            foreach (var decimals in new[] { 0, 1, 4, 6 })
            {
                Assert.Equal(DecisionRule.IsPhishing(p), DecisionRule.IsPhishing(DecisionRule.Rounded(p, decimals)));
            }
        }
    }

    [Fact]
    public void Brier_score_is_the_mean_squared_error_of_the_probability()
    {
        Assert.Equal(((0.1 * 0.1) + (0.2 * 0.2) + (0.5 * 0.5)) / 3, BrierScore.Compute([1, 0, 1], [0.9, 0.2, 0.5]), 15);
        Assert.True(double.IsNaN(BrierScore.Compute([], [])));
        Assert.Throws<ArgumentException>(() => BrierScore.Compute([1], [0.5, 0.5]));
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

    [Fact]
    public void The_data_sets_minus_one_plus_one_labels_are_refused_by_every_metric_not_scored_as_no_positives()
    {
        // Before: the phishing view (positive label 0) of -1/1 labels found no positives (recall 0, AUC NaN) and the
        // Brier score squared p + 1 (here 0.8325 instead of 0.0825, scikit-learn's value for these labels).
        int[] signed = [-1, 1, 1, -1];
        double[] p = [0.3, 0.8, 0.6, 0.2];
        var compute = Assert.Throws<ArgumentOutOfRangeException>(() => BinaryClassificationMetrics.Compute(signed, p, 0));
        Assert.Equal("labels", compute.ParamName);
        Assert.Contains("labels[0] is -1", compute.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryClassificationMetrics.ComputeRocAuc(signed, p, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BrierScore.Compute(signed, p));
        Assert.Throws<ArgumentOutOfRangeException>(() => RocCurve.Compute(signed, p));
        Assert.Equal(0.0825, BrierScore.Compute([0, 1, 1, 0], p), 12);
    }

    [Fact]
    public void Auc_refuses_spans_of_different_lengths_and_brier_a_score_that_is_not_a_probability()
    {
        // Before: a shorter span was an IndexOutOfRangeException, a longer one silently cut to the labels.
        Assert.Throws<ArgumentException>(() => BinaryClassificationMetrics.ComputeRocAuc([0, 1, 1], [0.1, 0.9]));
        Assert.Throws<ArgumentException>(() => BinaryClassificationMetrics.ComputeRocAuc([0, 1], [0.1, 0.9, 0.5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryClassificationMetrics.ComputeRocAuc([0, 1], [0.1, 0.9], positiveLabel: 2));
        var brier = Assert.Throws<ArgumentOutOfRangeException>(() => BrierScore.Compute([0, 1], [0.1, 1.5]));
        Assert.Contains("probabilities[1] is 1.5", brier.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => BrierScore.Compute([0, 1], [double.NaN, 0.5]));
    }
}
