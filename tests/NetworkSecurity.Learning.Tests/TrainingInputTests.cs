using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

/// <summary>Every learner, called as another team would call it, with training data it must refuse.</summary>
public sealed class TrainingInputTests
{
    public static TheoryData<string> Learners() => new() { "gbdt", "random_forest", "decision_tree", "ada_boost", "logistic_regression", "average", "exact_match" };

    private static ILearner Create(string name) => name switch
    {
        "gbdt" => new GradientBoostingLearner(nEstimators: 5),
        "random_forest" => new RandomForestLearner(nEstimators: 5),
        "decision_tree" => new DecisionTreeLearner(),
        "ada_boost" => new AdaBoostLearner(nEstimators: 5),
        "logistic_regression" => new LogisticRegressionLearner(),
        "average" => new AveragingLearner([new GradientBoostingLearner(nEstimators: 3), new RandomForestLearner(nEstimators: 3)], [0.5, 0.5]),
        "exact_match" => new ExactMatchLearner(new GradientBoostingLearner(nEstimators: 3), 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    // 200 rows of the real data: both classes, three values per feature.
    private static readonly Lazy<(FeatureMatrix X, int[] Y)> Sample = new(() =>
    {
        var (x, y) = ReferenceData.PhishingData();
        var rows = Enumerable.Range(0, 200).ToArray();
        return (x.SelectRows(rows), rows.Select(i => y[i]).ToArray());
    });

    [Theory]
    [MemberData(nameof(Learners))]
    public void Labels_other_than_0_and_1_are_refused_naming_the_row_and_value(string name)
    {
        var (x, y) = Sample.Value;

        // The data set's own coding (-1 phishing, 1 legitimate): taken before as "not 1" by the trees, as a negative
        // count by boosting (exact_match then answered probabilities below 0).
        var signed = y.Select(v => v == 0 ? -1 : 1).ToArray();
        var first = Array.IndexOf(signed, -1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Create(name).Learn(x, signed));
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains($"labels[{first}] is -1", ex.Message, StringComparison.Ordinal);

        var two = (int[])y.Clone();
        two[137] = 2;
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Create(name).Learn(x, two));
        Assert.Contains("labels[137] is 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void A_label_count_that_is_not_the_row_count_is_refused(string name)
    {
        var (x, y) = Sample.Value;
        foreach (var labels in new[] { y[..150], [.. y, .. y[..10]] })
        {
            var ex = Assert.Throws<ArgumentException>(() => Create(name).Learn(x, labels));
            Assert.Equal("labels", ex.ParamName);
            Assert.Contains($"200 rows but {labels.Length} labels", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void No_rows_or_no_columns_are_refused_in_those_words(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => Create(name).Learn(new FeatureMatrix(0, 30), []));
        Assert.Contains("zero rows", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<ArgumentException>(() => Create(name).Learn(new FeatureMatrix(10, 0), new int[10]));
        Assert.Contains("no feature columns", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binned_learners_refuse_rows_outside_the_data_and_check_only_the_labels_of_their_rows()
    {
        var (x, y) = Sample.Value;
        var binned = BinnedDataset.Create(x);
        IBinnedLearner[] learners = [new GradientBoostingLearner(nEstimators: 3), new RandomForestLearner(nEstimators: 3), new DecisionTreeLearner(), new AdaBoostLearner(nEstimators: 3)];
        var labels = (int[])y.Clone();
        labels[199] = 7; // not a training row below: a fold's labels array holds every row, used or not
        var rows = Enumerable.Range(0, 150).ToArray();
        foreach (var learner in learners)
        {
            Assert.NotNull(learner.Learn(binned, labels, rows));
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => learner.Learn(binned, labels, [0, 1, 200]));
            Assert.Contains("rows[2] is 200", ex.Message, StringComparison.Ordinal);
            ex = Assert.Throws<ArgumentOutOfRangeException>(() => learner.Learn(binned, labels, [0, 199]));
            Assert.Contains("labels[199] is 7", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => learner.Learn(binned, labels, []));
        }
    }

    [Fact]
    public void Early_stopping_that_would_take_every_row_for_validation_is_refused_not_fitted_as_NaN()
    {
        // One row per class: each class's validation share rounds up to its one row. The model was fitted on no rows
        // (prior 0/0) and answered NaN for every input.
        var x = FeatureMatrix.FromRows([[0.0, 1], [1.0, 0]]);
        var learner = new GradientBoostingLearner(nEstimators: 5, validationFraction: 0.5, nIterNoChange: 2);
        var ex = Assert.Throws<ArgumentException>(() => learner.Learn(x, [0, 1]));
        Assert.Contains("validation_fraction 0.5 takes all 2 training rows", ex.Message, StringComparison.Ordinal);

        // Enough rows: the same settings fit, with probabilities.
        var (sample, y) = Sample.Value;
        var model = learner.Learn(sample, y);
        Assert.InRange(model.PredictProbability(sample.Row(0)), 0, 1);
    }

    [Fact]
    public void Grid_search_refuses_bad_labels_once_not_as_a_failure_of_every_configuration()
    {
        var (x, y) = Sample.Value;
        var signed = y.Select(v => v == 0 ? -1 : 1).ToArray();
        var search = new GridSearch(LearnerCatalog.Default(1), folds: 2);
        GridCandidate[] grid = [new("tree", "decision_tree", []), new("forest", "random_forest", [new("n_estimators", ["3"])])];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => search.Run(x, signed, null, grid));
        Assert.Contains("labels must be 0 (negative) or 1 (positive)", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => search.Run(x, y[..100], null, grid));
    }

    [Fact]
    public void Grid_search_refuses_a_class_too_small_for_every_fold_to_hold_it()
    {
        // Before: with 3 phishing rows and 5 folds, two folds had none; their AUC was NaN, so every configuration's
        // mean was NaN and the "best" was whichever came first.
        var (x, y) = Sample.Value;
        var rows = Enumerable.Range(0, y.Length).Where(i => y[i] == 1).Concat(Enumerable.Range(0, y.Length).Where(i => y[i] == 0).Take(3)).ToArray();
        var fewX = x.SelectRows(rows);
        var fewY = rows.Select(i => y[i]).ToArray();
        GridCandidate[] grid = [new("tree", "decision_tree", [new("max_depth", ["2", "4"])])];
        var ex = Assert.Throws<ArgumentException>(() => new GridSearch(LearnerCatalog.Default(1), folds: 5, scoring: "roc_auc").Run(fewX, fewY, null, grid));
        Assert.Contains($"The smaller class has 3 rows among the {rows.Length} training rows: too few for 5-fold", ex.Message, StringComparison.Ordinal);

        var result = new GridSearch(LearnerCatalog.Default(1), folds: 3, scoring: "roc_auc").Run(fewX, fewY, null, grid);
        Assert.False(double.IsNaN(result.Best.Mean));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Logistic_regression_refuses_a_value_that_is_not_finite_naming_its_cell(double value)
    {
        // Before: the fit went through and every probability of the model was NaN.
        var (x, y) = Sample.Value;
        var bad = x.Clone();
        bad[42, 7] = value;
        var ex = Assert.Throws<ArgumentException>(() => new LogisticRegressionLearner().Learn(bad, y));
        Assert.Equal("features", ex.ParamName);
        Assert.Contains("features[42, 7]", ex.Message, StringComparison.Ordinal);
    }
}
