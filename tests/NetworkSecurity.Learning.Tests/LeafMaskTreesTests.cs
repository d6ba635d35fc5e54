using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

/// <summary>Single-row scoring by leaf masks gives exactly the tree walk's sum, for every row, NaN included.</summary>
public sealed class LeafMaskTreesTests
{
    private static double Walk(IReadOnlyList<FlatTree> trees, ReadOnlySpan<double> row, double start)
    {
        var sum = start;
        foreach (var tree in trees)
        {
            sum += tree.Predict(row);
        }

        return sum;
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(0, 64)]
    public void Boosted_trees_on_the_phishing_data_score_every_row_as_the_walk_does(int maxDepth, int maxLeaves)
    {
        var (trainX, trainY, testX, _) = ReferenceData.PhishingSplit();
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 81, maxDepth: maxDepth, maxLeaves: maxLeaves, learningRate: 0.1, subsample: 0.8, seed: 3)
            .Learn(trainX, trainY);
        var masks = LeafMaskTrees.TryCreate(model.Trees, model.FeatureCount);
        Assert.NotNull(masks);
        Assert.True(masks.IsDense); // ternary features: two thresholds each, the dense tables fit
        var sparse = LeafMaskTrees.TryCreate(model.Trees, model.FeatureCount, maxDenseMasks: 0)!;
        Assert.False(sparse.IsDense);
        var rows = testX.Values.ToArray();
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            rows[random.Next(rows.Length)] = double.NaN; // missing values go left, as in the walk
        }

        var withMissing = new FeatureMatrix(rows, testX.Rows, testX.Columns);
        for (var r = 0; r < withMissing.Rows; r++)
        {
            Assert.Equal(Walk(model.Trees, withMissing.Row(r), model.BaseScore), masks.Sum(withMissing.Row(r), model.BaseScore));
            Assert.Equal(model.RawScore(withMissing.Row(r), model.Trees.Length), masks.Sum(withMissing.Row(r), model.BaseScore));
            Assert.Equal(Walk(model.Trees, withMissing.Row(r), model.BaseScore), sparse.Sum(withMissing.Row(r), model.BaseScore));
        }

        // The model's own single-row path uses them.
        Assert.Equal(GradientBoostingModel.Sigmoid(Walk(model.Trees, testX.Row(0), model.BaseScore)), model.PredictProbability(testX.Row(0)));
    }

    [Fact]
    public void Continuous_features_with_many_thresholds_and_values_on_the_thresholds_score_as_the_walk_does()
    {
        var random = new Random(11);
        var x = new double[3000 * 4];
        var y = new int[3000];
        for (var r = 0; r < y.Length; r++)
        {
            for (var c = 0; c < 4; c++)
            {
                x[(r * 4) + c] = Math.Round(random.NextDouble() * 100, 1); // many distinct values: many thresholds, binary search
            }

            y[r] = x[r * 4] + x[(r * 4) + 1] > 100 ^ random.NextDouble() < 0.1 ? 1 : 0;
        }

        var features = new FeatureMatrix(x, y.Length, 4);
        var model = (GradientBoostingModel)new GradientBoostingLearner(nEstimators: 30, maxDepth: 0, maxLeaves: 48, learningRate: 0.2, seed: 1).Learn(features, y);
        var masks = LeafMaskTrees.TryCreate(model.Trees, 4)!;
        var sparse = LeafMaskTrees.TryCreate(model.Trees, 4, maxDenseMasks: 0)!;
        Assert.True(masks.IsDense);
        Assert.False(sparse.IsDense);
        var thresholds = model.Trees.SelectMany(t => t.Nodes).Where(n => !n.IsLeaf).Select(n => n.Threshold).Take(50).ToArray();
        for (var r = 0; r < 500; r++)
        {
            var row = features.Row(r).ToArray();
            row[r % 4] = thresholds[r % thresholds.Length]; // exactly on a threshold: not greater, so left
            Assert.Equal(Walk(model.Trees, row, 0), masks.Sum(row));
            Assert.Equal(Walk(model.Trees, features.Row(r), 0), masks.Sum(features.Row(r)));
            Assert.Equal(Walk(model.Trees, row, 0), sparse.Sum(row));
            Assert.Equal(Walk(model.Trees, features.Row(r), 0), sparse.Sum(features.Row(r)));
        }
    }

    [Fact]
    public void Trees_of_more_than_64_leaves_are_not_encoded()
    {
        var (trainX, trainY, _, _) = ReferenceData.PhishingSplit();
        var big = ((DecisionTreeModel)new DecisionTreeLearner().Learn(trainX, trainY)).Tree; // a full CART tree: hundreds of leaves
        Assert.True(big.LeafCount > 64, $"{big.LeafCount} leaves");
        Assert.Null(LeafMaskTrees.TryCreate([big], trainX.Columns));
    }
}
