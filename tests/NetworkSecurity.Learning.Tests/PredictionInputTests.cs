using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Tests;

/// <summary>Every model of the library scored with rows of another width, as a caller with the wrong schema would.</summary>
public sealed class PredictionInputTests
{
    public static TheoryData<string> Models() => new() { "gbdt", "random_forest", "decision_tree", "ada_boost", "logistic_regression", "average", "exact_match" };

    private static readonly Lazy<(FeatureMatrix X, int[] Y)> Sample = new(() =>
    {
        var (x, y) = ReferenceData.PhishingData();
        var rows = Enumerable.Range(0, 600).ToArray();
        return (x.SelectRows(rows), rows.Select(i => y[i]).ToArray());
    });

    private static IClassifierModel Fit(string name)
    {
        ILearner learner = name switch
        {
            "gbdt" => new GradientBoostingLearner(nEstimators: 10),
            "random_forest" => new RandomForestLearner(nEstimators: 5),
            "decision_tree" => new DecisionTreeLearner(),
            "ada_boost" => new AdaBoostLearner(nEstimators: 5),
            "logistic_regression" => new LogisticRegressionLearner(),
            "average" => new AveragingLearner([new GradientBoostingLearner(nEstimators: 5), new RandomForestLearner(nEstimators: 3)], [0.5, 0.5]),
            "exact_match" => new ExactMatchLearner(new GradientBoostingLearner(nEstimators: 5), 1),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var (x, y) = Sample.Value;
        return learner.Learn(x, y);
    }

    /// <summary>The sample with <paramref name="columns"/> columns: cut, or widened with a copy of the first.</summary>
    private static FeatureMatrix Width(int columns)
    {
        var (x, _) = Sample.Value;
        return FeatureMatrix.FromRows([.. Enumerable.Range(0, x.Rows).Select(r => Enumerable.Range(0, columns).Select(c => x[r, c % x.Columns]).ToArray())]);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_row_or_matrix_of_another_width_is_refused_naming_both_widths(string name)
    {
        var model = Fit(name);
        Assert.Equal(30, model.FeatureCount);
        foreach (var columns in new[] { 29, 31 })
        {
            // Before: 31 columns scored silently (the boosted trees' batch path read each row shifted by one more
            // value than the last), 29 failed with IndexOutOfRangeException or scored silently, depending on the model.
            var wrong = Width(columns);
            var ex = Assert.Throws<ArgumentException>(() => model.PredictProbability(wrong.Row(0)));
            Assert.Equal($"Expected 30 features, got {columns}. (Parameter 'features')", ex.Message);
            ex = Assert.Throws<ArgumentException>(() => model.PredictProbabilities(wrong, new double[wrong.Rows]));
            Assert.Equal($"Expected 30 features, got {columns}. (Parameter 'features')", ex.Message);
        }

        var right = Width(30);
        var probabilities = new double[right.Rows];
        model.PredictProbabilities(right, probabilities);
        Assert.All(probabilities, p => Assert.InRange(p, 0, 1));
        Assert.Equal(probabilities[7], model.PredictProbability(right.Row(7)), 12);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_destination_shorter_than_the_rows_is_refused_before_any_work(string name)
    {
        var model = Fit(name);
        var (x, _) = Sample.Value;
        var ex = Assert.Throws<ArgumentException>(() => model.PredictProbabilities(x, new double[x.Rows - 1]));
        Assert.Equal("destination", ex.ParamName);
        Assert.Contains($"{x.Rows} needed", ex.Message, StringComparison.Ordinal);
    }
}
