using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

/// <summary>
/// The prepared per-leaf TreeSHAP (tabled and computed leaves) against the recursive algorithm, tree by tree, and
/// against brute-force Shapley values; the batch method against row by row.
/// </summary>
public sealed class TreeShapEnsembleTests
{
    private static readonly Lazy<(FeatureMatrix TrainX, int[] TrainY, FeatureMatrix TestX, int[] TestY)> Split = new(() => ReferenceData.PhishingSplit());

    // 0: every leaf computes; 4: short paths tabled, long ones computed; 24: every leaf tabled (paths here are shorter).
    public static TheoryData<int> TableBits() => new() { 0, 4, 24 };

    [Theory]
    [MemberData(nameof(TableBits))]
    public void Leaf_wise_boosting_gets_the_recursive_tree_shap_values_also_for_missing_values(int maxTableBits)
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 30, maxDepth: 0, maxLeaves: 64, minSamplesLeaf: 2, subsample: 0.8, learningRate: 0.1, seed: 3).Learn(trainX, trainY);
        var ensemble = new TreeShapEnsemble(model.Trees, model.FeatureCount, 1.0, maxTableBits, long.MaxValue);
        Assert.True(model.Trees.Max(t => t.Depth) > 10, "the trees should have long paths");
        if (maxTableBits == 4)
        {
            Assert.InRange(ensemble.TabledLeafCount, 1, ensemble.LeafCount - 1);
        }

        var random = new Random(7);
        for (var r = 0; r < 60; r++)
        {
            var row = testX.Row(r).ToArray();
            if (r % 3 == 0)
            {
                row[random.Next(row.Length)] = double.NaN; // missing values go left, as in scoring
                row[random.Next(row.Length)] = double.NaN;
            }

            AssertSameAsRecursive(model.Trees, 1.0, ensemble, row, 1e-12);
        }
    }

    [Theory]
    [MemberData(nameof(TableBits))]
    public void A_deep_decision_tree_and_a_scaled_forest_get_the_recursive_values(int maxTableBits)
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var tree = ((DecisionTreeModel)new DecisionTreeLearner(criterion: "entropy", seed: 5).Learn(trainX, trainY)).Tree;
        var forest = (RandomForestModel)new RandomForestLearner(nEstimators: 6, seed: 5).Learn(trainX, trainY);
        var single = new TreeShapEnsemble([tree], 30, 1.0, maxTableBits, long.MaxValue);
        var scaled = new TreeShapEnsemble(forest.Trees, 30, 1.0 / forest.Trees.Length, maxTableBits, long.MaxValue);
        for (var r = 0; r < 40; r++)
        {
            var row = testX.Row(r).ToArray();
            AssertSameAsRecursive([tree], 1.0, single, row, 1e-12);
            AssertSameAsRecursive(forest.Trees, 1.0 / forest.Trees.Length, scaled, row, 1e-12);
        }
    }

    [Fact]
    public void Past_the_table_budget_leaves_compute_and_give_the_same_values()
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 10, maxDepth: 0, maxLeaves: 32, seed: 2).Learn(trainX, trainY);
        var unlimited = new TreeShapEnsemble(model.Trees, 30);
        var limited = new TreeShapEnsemble(model.Trees, 30, tableBudget: unlimited.TableSize / 3);
        Assert.True(limited.TableSize <= unlimited.TableSize / 3);
        Assert.True(limited.TabledLeafCount < unlimited.TabledLeafCount && limited.TabledLeafCount > 0);
        for (var r = 0; r < 30; r++)
        {
            var a = new double[30];
            var b = new double[30];
            unlimited.Add(testX.Row(r), a);
            limited.Add(testX.Row(r), b);
            for (var f = 0; f < 30; f++)
            {
                Assert.Equal(a[f], b[f], 12);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TableBits))]
    public void Small_trees_get_the_brute_force_shapley_values(int maxTableBits)
    {
        // 5 features of 4 levels: trees split one feature several times along a path.
        var random = new Random(13);
        var rows = new double[300][];
        var labels = new int[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = Enumerable.Range(0, 5).Select(_ => (double)random.Next(4)).ToArray();
            labels[i] = rows[i][0] - rows[i][1] + (0.5 * rows[i][2] * rows[i][3]) + (random.NextDouble() * 2) > 2.2 ? 1 : 0;
        }

        var x = FeatureMatrix.FromRows(rows);
        var boosted = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 4, maxDepth: 5, subsample: 0.8).Learn(x, labels);
        var ensemble = new TreeShapEnsemble(boosted.Trees, 5, 1.0, maxTableBits, long.MaxValue);
        for (var r = 0; r < 40; r++)
        {
            var row = x.Row(r).ToArray();
            var phi = new double[5];
            ensemble.Add(row, phi);
            var exact = new double[5];
            foreach (var tree in boosted.Trees)
            {
                var one = BruteForce.Shapley(tree, row);
                for (var f = 0; f < 5; f++)
                {
                    exact[f] += one[f];
                }
            }

            for (var f = 0; f < 5; f++)
            {
                Assert.Equal(exact[f], phi[f], 12);
            }
        }
    }

    [Fact]
    public void A_stump_path_of_one_feature_gets_its_whole_difference_and_zero_value_leaves_are_skipped()
    {
        // x0 ≤ 0 ? 0 : 3, covers 4 = 1 + 3: E = 2.25; for x0 = 1 the contribution is 3 − 2.25, for x0 = −1 it is −2.25.
        var tree = new FlatTree([new(0.0, 0, 1), new(0, -1, 0), new(3, -1, 0)], [4, 1, 3]);
        var ensemble = new TreeShapEnsemble([tree], 1);
        Assert.Equal(1, ensemble.LeafCount);
        var phi = new double[1];
        ensemble.Add([1.0], phi);
        Assert.Equal(0.75, phi[0], 14);
        phi[0] = 0;
        ensemble.Add([double.NaN], phi);
        Assert.Equal(-2.25, phi[0], 14);
    }

    // Trees override ExplainRows (leaf by leaf over blocks); logistic regression keeps the interface's default.
    public static TheoryData<string> BatchLearners() => new() { "gbdt", "random_forest", "ada_boost", "decision_tree", "logistic_regression" };

    [Theory]
    [MemberData(nameof(BatchLearners))]
    public void Rows_explained_in_a_batch_equal_rows_explained_one_by_one(string name)
    {
        var (trainX, trainY, testX, _) = Split.Value;
        ILearner learner = name switch
        {
            "gbdt" => new GradientBoostingLearner(nEstimators: 20, maxDepth: 0, maxLeaves: 32, seed: 4),
            "random_forest" => new RandomForestLearner(nEstimators: 4, seed: 4),
            "ada_boost" => new AdaBoostLearner(nEstimators: 8, seed: 4),
            "decision_tree" => new DecisionTreeLearner(seed: 4),
            _ => new LogisticRegressionLearner(),
        };
        var model = Assert.IsAssignableFrom<IExplainableModel>(learner.Learn(trainX, trainY));
        var rows = testX.SelectRows(Enumerable.Range(0, 150).ToArray()); // more than one block of rows
        var batch = new double[rows.Rows * 30];
        model.ExplainRows(rows, batch);
        var one = new double[30];
        for (var r = 0; r < rows.Rows; r++)
        {
            model.Explain(rows.Row(r), one);
            Assert.Equal(one, batch.AsSpan(r * 30, 30).ToArray());
        }

        // Fewer rows than SIMD lanes take the leaves four at a time instead: still the same bits.
        var three = new double[3 * 30];
        model.ExplainRows(rows.SelectRows([5, 6, 7]), three);
        Assert.Equal(batch.AsSpan(5 * 30, 3 * 30).ToArray(), three);

        Assert.Throws<ArgumentException>(() => model.ExplainRows(rows, new double[30]));
    }

    [Fact]
    public void Tree_shap_add_tree_by_tree_prepares_each_tree_and_gives_the_recursive_values()
    {
        var (trainX, trainY, testX, _) = Split.Value;
        var forest = (RandomForestModel)new RandomForestLearner(nEstimators: 4, seed: 9).Learn(trainX, trainY);
        for (var r = 0; r < 30; r++)
        {
            var expected = new double[30];
            var actual = new double[30];
            foreach (var tree in forest.Trees)
            {
                TreeShap.AddRecursive(tree, testX.Row(r), expected, 0.25);
                TreeShap.Add(tree, testX.Row(r), actual, 0.25);
            }

            for (var f = 0; f < 30; f++)
            {
                Assert.Equal(expected[f], actual[f], 12);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TableBits))]
    public void Empty_branches_and_values_on_a_threshold_are_handled_as_the_recursive_algorithm_does(int maxTableBits)
    {
        // x0 ≤ 0 ? (x1 ≤ 1 ? 5 : (x0 ≤ -1 ? 7 : 2)) : (x2 ≤ 0 ? -3 : 4); the x1 > 1 branch was never reached in training
        // (cover 0, so its ratios are 0 and its own split is even), and x2's right side neither.
        TreeNode[] nodes =
        [
            new(0.0, 0, 1), new(1.0, 1, 3), new(0.0, 2, 5),
            new(5, -1, 0), new(-1.0, 0, 7), new(-3, -1, 0), new(4, -1, 0),
            new(7, -1, 0), new(2, -1, 0),
        ];
        var tree = new FlatTree(nodes, [10, 6, 4, 6, 0, 4, 0, 0, 0]);
        var ensemble = new TreeShapEnsemble([tree], 3, 1.0, maxTableBits, long.MaxValue);
        foreach (double[] row in new[] { new[] { 0.0, 1.0, 0.0 }, [-1.0, 2.0, 1.0], [0.0, 2.0, 0.0], [1.0, double.NaN, 1.0], [double.NaN, 3.0, double.NaN] })
        {
            AssertSameAsRecursive([tree], 1.0, ensemble, row, 1e-14);
        }
    }

    [Fact]
    public void A_tree_without_cover_or_splitting_past_the_feature_count_is_refused()
    {
        var stump = new FlatTree([new(0.0, 1, 1), new(0, -1, 0), new(3, -1, 0)], [4, 1, 3]);
        Assert.Throws<ArgumentException>(() => new TreeShapEnsemble([stump], 1));
        Assert.Throws<InvalidOperationException>(() => new TreeShapEnsemble([new FlatTree(stump.Nodes)], 2));
    }

    private static void AssertSameAsRecursive(IEnumerable<FlatTree> trees, double scale, TreeShapEnsemble ensemble, double[] row, double tolerance)
    {
        var expected = new double[row.Length];
        foreach (var tree in trees)
        {
            TreeShap.AddRecursive(tree, row, expected, scale);
        }

        var actual = new double[row.Length];
        ensemble.Add(row, actual);
        for (var f = 0; f < row.Length; f++)
        {
            Assert.True(Math.Abs(expected[f] - actual[f]) <= tolerance, $"feature {f}: recursive {expected[f]:R}, prepared {actual[f]:R}");
        }
    }
}
