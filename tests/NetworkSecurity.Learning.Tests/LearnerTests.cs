using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

public sealed class LearnerTests
{
    private static readonly Lazy<(FeatureMatrix TrainX, int[] TrainY, FeatureMatrix TestX, int[] TestY)> Split = new(() => ReferenceData.PhishingSplit());

    public static TheoryData<string> Learners() => new() { "gbdt", "gbdt_leafwise", "gbdt_colsample", "gbdt_bytree", "gbdt_forest_average", "exact_match", "random_forest", "decision_tree", "ada_boost", "logistic_regression" };

    private static ILearner Create(string name, int seed = 7) => name switch
    {
        "gbdt" => new GradientBoostingLearner(nEstimators: 60, maxDepth: 4, subsample: 0.8, seed: seed),
        "gbdt_leafwise" => new GradientBoostingLearner(nEstimators: 60, maxDepth: 0, maxLeaves: 16, learningRate: 0.2, seed: seed),
        "gbdt_colsample" => new GradientBoostingLearner(nEstimators: 60, maxDepth: 4, subsample: 0.9, colsampleByNode: 0.5, seed: seed),
        "gbdt_bytree" => new GradientBoostingLearner(nEstimators: 60, maxDepth: 0, maxLeaves: 16, l2: 0.5, subsample: 0.9, colsampleByTree: 0.5, seed: seed),
        "gbdt_forest_average" => new AveragingLearner([new GradientBoostingLearner(nEstimators: 40, maxDepth: 0, maxLeaves: 16, colsampleByNode: 0.6, seed: seed), new RandomForestLearner(nEstimators: 20, seed: seed)], [0.6, 0.4]),
        "exact_match" => new ExactMatchLearner(new GradientBoostingLearner(nEstimators: 40, maxDepth: 4, seed: seed), 3),
        "random_forest" => new RandomForestLearner(nEstimators: 30, seed: seed),
        "decision_tree" => new DecisionTreeLearner(maxFeatures: "sqrt", seed: seed),
        "ada_boost" => new AdaBoostLearner(nEstimators: 40, learningRate: 0.5, maxDepth: 2, seed: seed),
        "logistic_regression" => new LogisticRegressionLearner(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    // Separable on feature 0; feature 1 is noise.
    private static readonly FeatureMatrix Toy = FeatureMatrix.FromRows([[-1, 0], [-1, 1], [-1, -1], [-1, 0], [1, 0], [1, 1], [1, -1], [1, 1]]);
    private static readonly int[] ToyLabels = [0, 0, 0, 0, 1, 1, 1, 1];

    /// <summary>Cancelled from a thread of its own: a timer's callback waits for a pool thread, and a parallel fit
    /// holding the pool kept it waiting for seconds.</summary>
    internal static CancellationTokenSource CancelSoon(TimeSpan after)
    {
        var source = new CancellationTokenSource();
        new Thread(() =>
        {
            Thread.Sleep(after);
            source.Cancel();
        }) { IsBackground = true }.Start();
        return source;
    }

    public static TheoryData<string> Ensembles() => new() { "gbdt", "random_forest", "ada_boost", "average" };

    [Theory]
    [MemberData(nameof(Ensembles))]
    public void An_ensemble_fit_stops_between_members_when_cancelled(string name)
    {
        // 20,000 members take tens of seconds on the phishing rows; cancelled after 0.2 s, the fit ends with
        // OperationCanceledException instead of returning a model (a stopped train or evaluate waited for the whole fit).
        ILearner learner = name switch
        {
            "gbdt" => new GradientBoostingLearner(nEstimators: 20_000, maxDepth: 6, seed: 1),
            "random_forest" => new RandomForestLearner(nEstimators: 20_000, seed: 1),
            "ada_boost" => new AdaBoostLearner(nEstimators: 20_000, learningRate: 0.5, maxDepth: 3, seed: 1),
            _ => new AveragingLearner([new DecisionTreeLearner(seed: 1), new GradientBoostingLearner(nEstimators: 20_000, maxDepth: 6, seed: 1)], [0.5, 0.5]),
        };
        var (x, y, _, _) = Split.Value;
        var binned = BinnedDataset.Create(x);
        var rows = Enumerable.Range(0, x.Rows).ToArray();
        using var stop = CancelSoon(TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAny<OperationCanceledException>(() => ((IBinnedLearner)learner).Learn(binned, y, rows, stop.Token));

        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        if (learner is GradientBoostingLearner gbdt)
        {
            Assert.ThrowsAny<OperationCanceledException>(() => gbdt.Learn(x, y, stopped.Token)); // the matrix overload too
        }
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void Learns_a_separable_toy_set_exactly(string name)
    {
        var model = Create(name).Learn(Toy, ToyLabels);
        for (var r = 0; r < Toy.Rows; r++)
        {
            Assert.Equal(ToyLabels[r], model.PredictProbability(Toy.Row(r)) >= 0.5 ? 1 : 0);
        }
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void Beats_the_majority_baseline_by_a_wide_margin_on_the_real_data(string name)
    {
        var (trainX, trainY, testX, testY) = Split.Value;
        var f1 = ReferenceData.F1(Create(name).Learn(trainX, trainY), testX, testY);
        // Majority class (legitimate) baseline: precision 0.557, recall 1 → F1 0.715.
        Assert.True(f1 > (name == "logistic_regression" ? 0.90 : 0.93), $"{name}: F1 {f1:0.0000}");
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void Same_seed_gives_a_byte_identical_model_and_round_trips(string name)
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var first = ModelSerializer.ToBytes(Create(name).Learn(trainX, trainY));
        var second = ModelSerializer.ToBytes(Create(name).Learn(trainX, trainY));
        Assert.Equal(first, second);

        var model = Create(name).Learn(trainX, trainY);
        var copy = ModelSerializer.FromBytes(ModelSerializer.ToBytes(model));
        var a = new double[testX.Rows];
        var b = new double[testX.Rows];
        model.PredictProbabilities(testX, a);
        copy.PredictProbabilities(testX, b);
        Assert.Equal(a, b);
        for (var r = 0; r < 20; r++)
        {
            Assert.Equal(a[r], copy.PredictProbability(testX.Row(r)), 12);
        }
    }

    [Fact]
    public void An_average_is_the_weighted_mean_of_its_members()
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var gbdt = new GradientBoostingLearner(nEstimators: 30, maxDepth: 3, seed: 2);
        var forest = new RandomForestLearner(nEstimators: 15, seed: 2);
        var average = (AveragingModel)new AveragingLearner([gbdt, forest], [3, 1]).Learn(trainX, trainY);
        Assert.Equal([0.75, 0.25], average.Weights);
        var g = gbdt.Learn(trainX, trainY);
        var f = forest.Learn(trainX, trainY);
        for (var r = 0; r < 25; r++)
        {
            var row = testX.Row(r);
            Assert.Equal((0.75 * g.PredictProbability(row)) + (0.25 * f.PredictProbability(row)), average.PredictProbability(row), 12);
        }

        Assert.Throws<ArgumentException>(() => new AveragingLearner([gbdt], [0.5, 0.5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingLearner([gbdt, forest], [-1, 2]));
        var bytes = ModelSerializer.ToBytes(average);
        Assert.Equal(ModelSerializer.ToBytes(ModelSerializer.FromBytes(bytes)), bytes);
        Assert.Throws<InvalidDataException>(() => ModelSerializer.FromBytes(bytes[..^9])); // a truncated member is an error, not a smaller model
    }

    [Fact]
    public void Exact_match_blends_the_copies_labels_with_the_base_model_and_leaves_unseen_rows_alone()
    {
        // Vector A seen 3 times (2 positive), vector B once (negative); the base model is a constant 0.5 (logistic, no signal).
        var x = FeatureMatrix.FromRows([[1, 0], [1, 0], [1, 0], [-1, 1]]);
        var model = (ExactMatchModel)new ExactMatchLearner(new ConstantLearner(), 2).Learn(x, [1, 1, 0, 0]);
        Assert.Equal(2, model.RememberedVectors);
        Assert.Equal((2 + (2 * 0.5)) / (3 + 2), model.PredictProbability([1, 0]), 12);
        Assert.Equal((0 + (2 * 0.5)) / (1 + 2), model.PredictProbability([-1, 1]), 12);
        Assert.Equal(0.5, model.PredictProbability([0, 0]), 12);  // unseen
        Assert.Equal(0.5, model.PredictProbability([0.5, 0]), 12); // not a coded value: never looked up
        var batch = new double[2];
        model.PredictProbabilities(FeatureMatrix.FromRows([[1, 0], [0, 0]]), batch);
        Assert.Equal([model.PredictProbability([1, 0]), 0.5], batch);

        var copy = (ExactMatchModel)ModelSerializer.FromBytes(ModelSerializer.ToBytes(model));
        Assert.Equal(model.PredictProbability([1, 0]), copy.PredictProbability([1, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExactMatchLearner(new ConstantLearner(), 0));
    }

    /// <summary>Always 0.5: isolates what the exact-match layer adds.</summary>
    private sealed class ConstantLearner : ILearner
    {
        public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels) => new AveragingModel([new LogisticRegressionModel(0, new double[features.Columns])], [1]);
    }

    [Fact]
    public void Random_forest_is_identical_with_one_thread_or_many()
    {
        var (trainX, trainY, _, _) = Split.Value;
        var one = new RandomForestLearner(nEstimators: 12, seed: 3, maxDegreeOfParallelism: 1).Learn(trainX, trainY);
        var many = new RandomForestLearner(nEstimators: 12, seed: 3, maxDegreeOfParallelism: 4).Learn(trainX, trainY);
        Assert.Equal(ModelSerializer.ToBytes(one), ModelSerializer.ToBytes(many));
        var other = new RandomForestLearner(nEstimators: 12, seed: 4).Learn(trainX, trainY);
        Assert.NotEqual(ModelSerializer.ToBytes(one), ModelSerializer.ToBytes(other));
    }

    [Fact]
    public void First_boosting_step_has_the_newton_leaf_values()
    {
        // One stump on one feature: x ≤ 0 holds labels {0,0,1}, x > 0 holds {1,1,1}. Prior p = 4/6, base = ln 2.
        // Gradients p - y: left G = 3·(2/3) - 1 = 1, H = 3·(2/9) = 2/3; right G = 3·(2/3 - 1) = -1, H = 2/3.
        // Leaf = -G / (H + λ) · lr with λ = 1, lr = 0.5: left -0.3, right 0.3.
        var x = FeatureMatrix.FromRows([[-1], [-1], [-1], [1], [1], [1]]);
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 1, maxDepth: 1, learningRate: 0.5, l2: 1.0, minChildWeight: 0).Learn(x, [0, 0, 1, 1, 1, 1]);
        Assert.Equal(Math.Log(2), model.BaseScore, 12);
        var tree = Assert.Single(model.Trees);
        Assert.Equal(0.0, tree.Nodes[0].Threshold); // midpoint of -1 and 1
        Assert.Equal(-0.3, tree.Predict([-1.0]), 12);
        Assert.Equal(0.3, tree.Predict([1.0]), 12);
        Assert.Equal(1.0 / (1 + Math.Exp(-(Math.Log(2) + 0.3))), model.PredictProbability([1.0]), 12);
    }

    [Fact]
    public void Decision_tree_splits_where_gini_drops_most_and_leaves_hold_class_shares()
    {
        // Feature 0 separates {0,0,0 | 1,1,0}; feature 1 is worse. Leaves: 0/3 and 2/3.
        var x = FeatureMatrix.FromRows([[0, 1], [0, 0], [0, 1], [1, 0], [1, 1], [1, 0]]);
        var model = (DecisionTreeModel)new DecisionTreeLearner(maxDepth: 1).Learn(x, [0, 0, 0, 1, 1, 0]);
        Assert.Equal(0, model.Tree.Nodes[0].Feature);
        Assert.Equal(0.5, model.Tree.Nodes[0].Threshold);
        Assert.Equal(0.0, model.PredictProbability([0.0, 1.0]));
        Assert.Equal(2.0 / 3, model.PredictProbability([1.0, 1.0]), 12);
    }

    [Fact]
    public void AdaBoost_first_estimator_weight_is_the_samme_formula()
    {
        // A stump on feature 0 misclassifies 1 row of 5 (error 0.2): α = lr · ln(0.8 / 0.2).
        var x = FeatureMatrix.FromRows([[0], [0], [1], [1], [1]]);
        var model = (AdaBoostModel)new AdaBoostLearner(nEstimators: 1, learningRate: 0.5).Learn(x, [0, 0, 1, 1, 0]);
        Assert.Equal(0.5 * Math.Log(4), model.Weights[0], 12);
        Assert.Equal(1 / (1 + Math.Exp(-1.0)), model.PredictProbability([1.0]), 12); // decision +1 → sigmoid(1)
    }

    [Fact]
    public void Logistic_regression_reaches_a_stationary_point_of_the_penalised_loss()
    {
        var (trainX, trainY, _, _) = Split.Value;
        var model = (LogisticRegressionModel)new LogisticRegressionLearner(c: 1.0).Learn(trainX, trainY);
        Assert.Equal(30, model.Coefficients.Length);
        Assert.True(model.Coefficients[7] > 1, "SSLfinal_State should weigh strongly towards legitimate");

        // On a tiny 1-D set the optimum has a closed form check: the gradient of C·Σloss + ½w²/σ² must vanish,
        // so refitting with a much larger C moves towards the unpenalised fit (larger |w|).
        var x = FeatureMatrix.FromRows([[-2], [-1], [0], [1], [2], [1.5]]);
        int[] y = [0, 0, 1, 0, 1, 1];
        var loose = (LogisticRegressionModel)new LogisticRegressionLearner(c: 100).Learn(x, y);
        var tight = (LogisticRegressionModel)new LogisticRegressionLearner(c: 0.01).Learn(x, y);
        Assert.True(Math.Abs(loose.Coefficients[0]) > Math.Abs(tight.Coefficients[0]));
        // Unpenalised intercept: the mean predicted probability equals the positive rate at the optimum when C → ∞.
        var mean = Enumerable.Range(0, x.Rows).Average(r => loose.PredictProbability(x.Row(r)));
        Assert.Equal(0.5, mean, 2);
    }

    [Theory]
    [InlineData("n_estimators")]
    [InlineData("learning_rate")]
    [InlineData("subsample")]
    [InlineData("max_leaves")]
    [InlineData("colsample_bynode")]
    [InlineData("colsample_bytree")]
    public void Invalid_hyperparameters_throw_naming_the_parameter(string parameter)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => parameter switch
        {
            "n_estimators" => new GradientBoostingLearner(nEstimators: 0),
            "learning_rate" => new GradientBoostingLearner(learningRate: 0),
            "subsample" => new GradientBoostingLearner(subsample: 1.5),
            "colsample_bynode" => new GradientBoostingLearner(colsampleByNode: 0),
            "colsample_bytree" => new GradientBoostingLearner(colsampleByTree: 1.5),
            _ => (object)new GradientBoostingLearner(maxLeaves: 1),
        });
        Assert.Contains(parameter.Replace("n_estimators", "nEstimators", StringComparison.Ordinal).Replace("max_leaves", "max_leaves", StringComparison.Ordinal).Split('_')[0], ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecisionTreeLearner(criterion: "gain"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomForestLearner(nEstimators: 0));
        Assert.ThrowsAny<ArgumentException>(() => new RandomForestLearner(maxFeatures: "most"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaBoostLearner(learningRate: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogisticRegressionLearner(c: 0));
    }

    [Fact]
    public void Infinite_rates_and_penalties_are_refused_naming_the_parameter()
    {
        // Before: C = ∞ fitted a model whose every probability was NaN; AdaBoost's learning_rate = ∞ made NaN row weights.
        var c = Assert.Throws<ArgumentOutOfRangeException>(() => new LogisticRegressionLearner(c: double.PositiveInfinity));
        Assert.Equal("c", c.ParamName);
        Assert.Contains("finite", c.Message, StringComparison.Ordinal);
        var rate = Assert.Throws<ArgumentOutOfRangeException>(() => new AdaBoostLearner(learningRate: double.PositiveInfinity));
        Assert.Equal("learningRate", rate.ParamName);
        Assert.Contains("finite", rate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Average_weights_must_have_a_finite_sum()
    {
        // Before: weights are divided by their sum, so [∞, 1] gave NaN probabilities and [1e308, 1e308] gave 0 for every row.
        ILearner[] members = [new DecisionTreeLearner(maxDepth: 2), new DecisionTreeLearner(maxDepth: 3)];
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingLearner(members, [double.PositiveInfinity, 1]));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingLearner(members, [1e308, 1e308]));
        Assert.Contains("finite sum", ex.Message, StringComparison.Ordinal);

        var model = (AveragingModel)new AveragingLearner(members, [1e300, 1e300]).Learn(Toy, ToyLabels);
        Assert.Equal([0.5, 0.5], model.Weights);
        Assert.True(model.PredictProbability(Toy.Row(7)) > 0.5);
    }

    [Fact]
    public void Max_features_is_a_fraction_in_0_1_or_a_count_up_to_the_columns_as_scikit_learn_takes_it()
    {
        // "1.5" was read as the count 1 (one feature per split) and a count over the columns was cut to them, silently.
        foreach (var text in new[] { "1.5", "2.0", "-0.5", "nan" })
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new RandomForestLearner(maxFeatures: text));
            Assert.Contains("(0, 1]", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentOutOfRangeException>(() => new DecisionTreeLearner(maxFeatures: text));
        }

        var (trainX, trainY, _, _) = Split.Value;
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => new DecisionTreeLearner(maxFeatures: "31").Learn(trainX, trainY));
        Assert.Contains("max_features 31 is more than the 30 features", tooMany.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomForestLearner(nEstimators: 2, maxFeatures: "31").Learn(trainX, trainY));
        Assert.NotNull(new RandomForestLearner(nEstimators: 2, maxFeatures: "30").Learn(trainX, trainY));
        Assert.NotNull(new RandomForestLearner(nEstimators: 2, maxFeatures: "0.5").Learn(trainX, trainY));

        // A fraction is rounded down to at least one feature, as scikit-learn's max(1, int(max_features * n_features)):
        // it was rounded up, so 0.5 of 31 features searched 16 per split where scikit-learn searches 15.
        Assert.Equal(15, ClassificationTreeBuilder.ResolveMaxFeatures("0.5", 31));
        Assert.Equal(9, ClassificationTreeBuilder.ResolveMaxFeatures("0.3", 30));
        Assert.Equal(1, ClassificationTreeBuilder.ResolveMaxFeatures("0.01", 30));
        Assert.Equal(30, ClassificationTreeBuilder.ResolveMaxFeatures("1.0", 30));

        // log2 of one column is 0: at least one feature, as scikit-learn, instead of "must select at least one feature".
        var oneColumn = FeatureMatrix.FromRows([.. Enumerable.Range(0, Toy.Rows).Select(r => new[] { Toy[r, 0] })]);
        var model = new RandomForestLearner(nEstimators: 3, maxFeatures: "log2", bootstrap: false).Learn(oneColumn, ToyLabels);
        Assert.True(model.PredictProbability([1.0]) > 0.5);
        Assert.True(model.PredictProbability([-1.0]) < 0.5);
    }

    [Fact]
    public void Feature_subsampling_per_split_changes_the_trees_and_follows_the_seed()
    {
        var (trainX, trainY, _, _) = Split.Value;
        byte[] Fit(double colsample, int seed) => ModelSerializer.ToBytes(new GradientBoostingLearner(nEstimators: 20, maxDepth: 4, colsampleByNode: colsample, seed: seed).Learn(trainX, trainY));
        var all = Fit(1.0, 1);
        Assert.Equal(all, Fit(1.0, 2)); // without any sampling the seed plays no part
        Assert.NotEqual(all, Fit(0.3, 1));
        Assert.NotEqual(Fit(0.3, 1), Fit(0.3, 2));
        Assert.Equal(Fit(0.3, 1), Fit(0.3, 1));
    }

    [Fact]
    public void Feature_subsampling_per_tree_keeps_each_tree_to_its_share_of_the_features()
    {
        var (trainX, trainY, _, _) = Split.Value;
        GradientBoostingModel Fit(double byTree, double byNode, int seed) => (GradientBoostingModel)new GradientBoostingLearner(
            nEstimators: 30, maxDepth: 0, maxLeaves: 32, colsampleByTree: byTree, colsampleByNode: byNode, seed: seed).Learn(trainX, trainY);
        static int[][] FeaturesPerTree(GradientBoostingModel m) => [.. m.Trees.Select(t => t.Nodes.Where(n => !n.IsLeaf).Select(n => n.Feature).Distinct().Order().ToArray())];

        // 30 columns × 0.2 = 6 features per tree; 32-leaf trees on this data use many more when free to.
        var sampled = FeaturesPerTree(Fit(0.2, 1.0, 1));
        Assert.All(sampled, f => Assert.InRange(f.Length, 1, 6));
        Assert.True(sampled.Distinct(new SequenceComparer()).Count() > 20, "each tree draws its own features");
        Assert.Contains(FeaturesPerTree(Fit(1.0, 1.0, 1)), f => f.Length > 6);

        // Per-split sampling draws from the tree's features, so the tree's limit still holds.
        Assert.All(FeaturesPerTree(Fit(0.2, 0.5, 1)), f => Assert.InRange(f.Length, 1, 6));

        // Deterministic for a seed, different across seeds; without it the seed plays no part.
        var bytes = ModelSerializer.ToBytes(Fit(0.5, 1.0, 3));
        Assert.Equal(bytes, ModelSerializer.ToBytes(Fit(0.5, 1.0, 3)));
        Assert.NotEqual(bytes, ModelSerializer.ToBytes(Fit(0.5, 1.0, 4)));
        Assert.Equal(ModelSerializer.ToBytes(Fit(1.0, 1.0, 3)), ModelSerializer.ToBytes(Fit(1.0, 1.0, 4)));
    }

    private sealed class SequenceComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] obj) => obj.Aggregate(17, (h, v) => (h * 31) + v);
    }

    [Fact]
    public void Staged_predictions_equal_a_model_with_fewer_trees()
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var full = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 40, seed: 1).Learn(trainX, trainY);
        var small = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 15, seed: 1).Learn(trainX, trainY);
        var a = new double[testX.Rows];
        var b = new double[testX.Rows];
        full.PredictProbabilities(testX, 15, a);
        small.PredictProbabilities(testX, b);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Early_stopping_keeps_the_best_number_of_trees()
    {
        var (trainX, trainY, _, _) = Split.Value;
        var learner = new GradientBoostingLearner(nEstimators: 2000, learningRate: 0.3, maxDepth: 6, validationFraction: 0.2, nIterNoChange: 10, seed: 5);
        var model = (GradientBoostingModel)learner.Learn(trainX, trainY);
        Assert.InRange(model.StageCount, 5, 1990);
        Assert.Equal(model.StageCount, learner.BestIteration);
    }
}
