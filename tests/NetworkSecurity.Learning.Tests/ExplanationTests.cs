using System.Text;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

public sealed class ExplanationTests
{
    private static readonly Lazy<(FeatureMatrix TrainX, int[] TrainY, FeatureMatrix TestX, int[] TestY)> Split = new(() => ReferenceData.PhishingSplit());

    // Every learner the search can choose, in the shapes the grid uses (subsampled and leaf-wise boosting, bootstrap forests).
    public static TheoryData<string> Learners() => new() { "gbdt", "gbdt_leafwise", "random_forest", "decision_tree", "ada_boost", "logistic_regression" };

    private static ILearner Create(string name) => name switch
    {
        "gbdt" => new GradientBoostingLearner(nEstimators: 60, maxDepth: 3, subsample: 0.7, learningRate: 0.1, seed: 5),
        "gbdt_leafwise" => new GradientBoostingLearner(nEstimators: 40, maxDepth: 0, maxLeaves: 64, minSamplesLeaf: 2, l2: 1, subsample: 0.8, learningRate: 0.05, seed: 5),
        "random_forest" => new RandomForestLearner(nEstimators: 16, seed: 5),
        "decision_tree" => new DecisionTreeLearner(criterion: "entropy", seed: 5),
        "ada_boost" => new AdaBoostLearner(nEstimators: 32, learningRate: 0.1, seed: 5),
        "logistic_regression" => new LogisticRegressionLearner(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Learners))]
    public void Base_value_plus_contributions_is_the_raw_output_for_every_test_row(string name)
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var model = Assert.IsAssignableFrom<IExplainableModel>(Create(name).Learn(trainX, trainY));
        Assert.Null(model.ExplanationUnavailableReason);
        var phi = new double[model.FeatureCount];
        var worst = 0.0;
        var nonZero = 0;
        for (var r = 0; r < testX.Rows; r++)
        {
            var row = testX.Row(r);
            model.Explain(row, phi);
            var raw = model.RawOutput(row);
            worst = Math.Max(worst, Math.Abs(model.BaseValue + phi.Sum() - raw));
            nonZero += phi.Count(v => v != 0);

            // The raw output is what the model scores with.
            var probability = model.ContributionScale == ContributionScale.LogOdds ? GradientBoostingModel.Sigmoid(raw) : raw;
            Assert.Equal(model.PredictProbability(row), probability, 12);
        }

        Assert.True(worst < 1e-9, $"{name}: largest |base + Σ contributions − output| = {worst:E2}");
        Assert.True(nonZero > testX.Rows, $"{name}: contributions are almost all zero");
    }

    [Theory]
    [InlineData("gbdt_leafwise")]
    [InlineData("random_forest")]
    public void Threads_asking_a_fresh_model_for_its_first_explanation_at_once_prepare_its_tree_SHAP_once(string name)
    {
        // A model's TreeSHAP tables are built on its first explanation. Every thread that asked at once built its own copy
        // (a training run's importance loop, 400 rows over a 16-thread pool floor, peaked at 5.9 GB); now one builds it
        // and the others wait. Counted by the bytes each asking thread allocates, which other tests cannot disturb.
        var (trainX, trainY, testX, _) = Split.Value;
        var bytes = ModelSerializer.ToBytes(Create(name).Learn(trainX, trainY));
        var row = testX.Row(0).ToArray();

        // What one preparation and explanation allocate, on a fresh copy of the model.
        var alone = AllocatedBy(Fresh(bytes), row);

        const int threads = 8;
        var model = Fresh(bytes);
        var allocated = new long[threads];
        var contributions = new double[threads][];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            allocated[t] = AllocatedBy(model, row, contributions[t] = new double[model.FeatureCount]);
        })).ToArray();
        foreach (var worker in workers)
        {
            worker.Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        Assert.True(alone > 1 << 20, $"{name}: a preparation allocated only {alone:N0} bytes; the model is too small to tell");
        Assert.True(allocated.Sum() < alone * 1.5, $"{name}: {threads} threads asking at once allocated {allocated.Sum():N0} bytes ({string.Join(", ", allocated.Select(a => $"{a:N0}"))}); one preparation takes {alone:N0}");
        Assert.All(contributions, c => Assert.Equal(contributions[0], c));

        static IExplainableModel Fresh(byte[] bytes) => Assert.IsAssignableFrom<IExplainableModel>(ModelSerializer.FromBytes(bytes));

        static long AllocatedBy(IExplainableModel model, double[] row, double[]? phi = null)
        {
            phi ??= new double[model.FeatureCount];
            var before = GC.GetAllocatedBytesForCurrentThread();
            model.Explain(row, phi);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    [Fact]
    public void Scales_are_log_odds_for_boosting_and_logistic_regression_and_probability_for_forests_and_trees()
    {
        var (trainX, trainY, _, _) = Split.Value;
        var x = trainX.SelectRows(Enumerable.Range(0, 600).ToArray());
        var y = trainY[..600];
        Assert.Equal(ContributionScale.LogOdds, Explainable(new GradientBoostingLearner(nEstimators: 5).Learn(x, y)).ContributionScale);
        Assert.Equal(ContributionScale.LogOdds, Explainable(new AdaBoostLearner(nEstimators: 5).Learn(x, y)).ContributionScale);
        Assert.Equal(ContributionScale.LogOdds, Explainable(new LogisticRegressionLearner().Learn(x, y)).ContributionScale);
        Assert.Equal(ContributionScale.Probability, Explainable(new RandomForestLearner(nEstimators: 5).Learn(x, y)).ContributionScale);
        Assert.Equal(ContributionScale.Probability, Explainable(new DecisionTreeLearner().Learn(x, y)).ContributionScale);
    }

    [Fact]
    public void Logistic_regression_contribution_is_coefficient_times_distance_from_the_training_mean()
    {
        var x = FeatureMatrix.FromRows([[0, 1], [1, 0], [2, 1], [3, 0], [4, 1], [1, 1], [3, 1], [2, 0]]);
        var model = (LogisticRegressionModel)new LogisticRegressionLearner().Learn(x, [0, 0, 0, 1, 1, 0, 1, 1]);
        Assert.Equal([2.0, 0.625], model.FeatureMeans!);
        var phi = new double[2];
        model.Explain([4.0, 0.0], phi);
        Assert.Equal(model.Coefficients[0] * 2.0, phi[0], 14);
        Assert.Equal(model.Coefficients[1] * -0.625, phi[1], 14);
    }

    [Fact]
    public void Tree_shap_equals_brute_force_shapley_values_over_every_feature_subset()
    {
        // Small data with 5 features of 4 levels, so trees split the same feature more than once along a path.
        var random = new Random(11);
        var rows = new double[300][];
        var labels = new int[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = Enumerable.Range(0, 5).Select(_ => (double)random.Next(4)).ToArray();
            var signal = rows[i][0] - rows[i][1] + (0.5 * rows[i][2] * rows[i][3]) + random.NextDouble() * 2;
            labels[i] = signal > 2.2 ? 1 : 0;
        }

        var x = FeatureMatrix.FromRows(rows);
        var tree = ((DecisionTreeModel)new DecisionTreeLearner(maxDepth: 5).Learn(x, labels)).Tree;
        var boosted = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 6, maxDepth: 4, subsample: 0.8).Learn(x, labels);
        Assert.True(tree.Depth >= 4 && tree.LeafCount >= 10, $"tree too small: depth {tree.Depth}, {tree.LeafCount} leaves");
        Assert.Contains(tree.Nodes.Where(n => !n.IsLeaf).GroupBy(n => n.Feature), g => g.Count() > 1);

        foreach (var candidate in boosted.Trees.Prepend(tree))
        {
            for (var r = 0; r < 40; r++)
            {
                var row = x.Row(r).ToArray();
                var phi = new double[5];
                TreeShap.Add(candidate, row, phi);
                var recursive = new double[5];
                TreeShap.AddRecursive(candidate, row, recursive);
                var exact = BruteForce.Shapley(candidate, row);
                for (var f = 0; f < 5; f++)
                {
                    Assert.Equal(exact[f], phi[f], 12);
                    Assert.Equal(exact[f], recursive[f], 12);
                }

                Assert.Equal(candidate.Predict(row) - TreeShap.ExpectedValue(candidate), phi.Sum(), 12);
            }
        }
    }

    [Fact]
    public void A_hand_made_tree_splitting_one_feature_twice_gets_the_textbook_values()
    {
        // x0 ≤ 0.5 ? (x0 ≤ -0.5 ? 0 : 1) : (x1 ≤ 0 ? 2 : 4), covers 10 = 6 (2 + 4) + 4 (1 + 3).
        TreeNode[] nodes =
        [
            new(0.5, 0, 1), new(-0.5, 0, 3), new(0.0, 1, 5),
            new(0, -1, 0), new(1, -1, 0), new(2, -1, 0), new(4, -1, 0),
        ];
        var tree = new FlatTree(nodes, [10, 6, 4, 2, 4, 1, 3]);
        Assert.Equal(((2 * 0) + (4 * 1) + (1 * 2) + (3 * 4)) / 10.0, TreeShap.ExpectedValue(tree), 14);
        foreach (double[] row in new[] { new[] { 1.0, 1.0 }, [-1.0, 1.0], [0.0, -1.0], [1.0, -1.0] })
        {
            var phi = new double[2];
            TreeShap.Add(tree, row, phi);
            var recursive = new double[2];
            TreeShap.AddRecursive(tree, row, recursive);
            var exact = BruteForce.Shapley(tree, row);
            Assert.Equal(exact[0], phi[0], 14);
            Assert.Equal(exact[1], phi[1], 14);
            Assert.Equal(exact[0], recursive[0], 14);
            Assert.Equal(exact[1], recursive[1], 14);
        }
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void Explanations_survive_a_round_trip_through_the_model_file(string name)
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var model = Explainable(Create(name).Learn(trainX, trainY));
        var copy = Explainable(ModelSerializer.FromBytes(ModelSerializer.ToBytes(model)));
        Assert.Null(copy.ExplanationUnavailableReason);
        Assert.Equal(model.BaseValue, copy.BaseValue, 14);
        var a = new double[model.FeatureCount];
        var b = new double[model.FeatureCount];
        for (var r = 0; r < 25; r++)
        {
            model.Explain(testX.Row(r), a);
            copy.Explain(testX.Row(r), b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void A_format_1_model_file_still_loads_scores_and_says_it_cannot_explain()
    {
        // Format 1: no cover flag after the nodes. A stump x0 ≤ 0 ? 0.2 : 0.9.
        var bytes = Format1(w =>
        {
            w.Write("decision_tree");
            w.Write(1); // features
            w.Write(3); // nodes
            (double Value, int Feature, int Child)[] nodes = [(0.0, 0, 1), (0.2, -1, 0), (0.9, -1, 0)];
            foreach (var (value, feature, child) in nodes)
            {
                w.Write(value);
                w.Write(feature);
                w.Write(child);
            }
        });
        var model = Explainable(ModelSerializer.FromBytes(bytes));
        Assert.Equal(0.9, model.PredictProbability([1.0]));
        Assert.Contains("retrain", model.ExplanationUnavailableReason, StringComparison.Ordinal);
        Assert.NotNull(ModelExplanation.UnavailableReason(model));
        var error = Assert.Throws<InvalidOperationException>(() => model.Explain([1.0], new double[1]));
        Assert.Contains("cannot explain", error.Message, StringComparison.Ordinal);

        var linear = Explainable(ModelSerializer.FromBytes(Format1(w =>
        {
            w.Write("logistic_regression");
            w.Write(0.5);
            w.Write(1);
            w.Write(2.0);
        })));
        Assert.Equal(GradientBoostingModel.Sigmoid(2.5), linear.PredictProbability([1.0]), 14);
        Assert.NotNull(linear.ExplanationUnavailableReason);
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void A_row_or_matrix_of_another_width_is_not_explained(string name)
    {
        // Before: a row or matrix wider than the model was explained from its first columns, silently (scoring it now
        // fails, so explaining it must too).
        var (trainX, trainY, testX, _) = Split.Value;
        var model = Explainable(Create(name).Learn(trainX, trainY));
        var wide = FeatureMatrix.FromRows([.. Enumerable.Range(0, 4).Select(r => testX.Row(r).ToArray().Append(1.0).ToArray())]);
        var phi = new double[wide.Columns * wide.Rows];
        var one = Assert.Throws<ArgumentException>(() => model.Explain(wide.Row(0), phi));
        Assert.Equal("Expected 30 features, got 31. (Parameter 'features')", one.Message);
        var rows = Assert.Throws<ArgumentException>(() => model.ExplainRows(wide, phi));
        Assert.Equal("Expected 30 features, got 31. (Parameter 'features')", rows.Message);

        var room = Assert.Throws<ArgumentException>(() => model.Explain(testX.Row(0), new double[29]));
        Assert.Equal("contributions", room.ParamName);
    }

    [Fact]
    public void A_model_without_contribution_support_is_named_not_explained()
    {
        var reason = ModelExplanation.UnavailableReason(new ConstantModel());
        Assert.Contains(nameof(ConstantModel), reason, StringComparison.Ordinal);

        // A model of the file format is named as the model card names it, not by its class.
        var average = new AveragingModel([new LogisticRegressionModel(0, [1.0]), new LogisticRegressionModel(1, [0.5])], [1, 1]);
        Assert.Equal("the average model does not provide feature contributions", ModelExplanation.UnavailableReason(average));
    }

    private sealed class ConstantModel : IClassifierModel
    {
        public int FeatureCount => 1;

        public double PredictProbability(ReadOnlySpan<double> features) => 0.5;

        public void PredictProbabilities(FeatureMatrix features, Span<double> destination) => destination[..features.Rows].Fill(0.5);
    }

    private static IExplainableModel Explainable(IClassifierModel model) => Assert.IsAssignableFrom<IExplainableModel>(model);

    private static byte[] Format1(Action<BinaryWriter> payload)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(0x4D43534Eu);
            writer.Write(1);
            payload(writer);
        }

        return stream.ToArray();
    }
}
