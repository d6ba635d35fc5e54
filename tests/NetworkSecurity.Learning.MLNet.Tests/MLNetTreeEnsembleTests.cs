using Microsoft.ML;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;

namespace NetworkSecurity.Learning.MLNet.Tests;

/// <summary>ML.NET's trees read into ours: the same probabilities as ML.NET's own engine, and exact TreeSHAP.</summary>
public sealed class MLNetTreeEnsembleTests
{
    // ML.NET's own answer: its vectorised transform over the model's transformer, not our trees.
    private static float[] MLNetProbabilities(MLNetModel model, FeatureMatrix x)
    {
        var context = new MLContext();
        var data = context.Data.LoadFromEnumerable(MLNetModel.ToRows(x, []), MLNetInputRow.Schema(x.Columns));
        return [.. context.Data.CreateEnumerable<MLNetOutputRow>(model.Transformer.Transform(data), reuseRowObject: false).Select(r => r.Probability)];
    }

    [Theory]
    [MemberData(nameof(PhishingData.Trainers), MemberType = typeof(PhishingData))]
    public void The_trees_give_exactly_MLNets_probabilities_on_every_row(MLNetTrainer trainer)
    {
        var (model, _) = PhishingData.Fit(trainer);
        Assert.NotNull(model.Trees);
        var (x, _) = PhishingData.Load();
        var expected = MLNetProbabilities(model, x);
        var batch = new double[x.Rows];
        model.PredictProbabilities(x, batch);
        for (var i = 0; i < x.Rows; i++)
        {
            Assert.Equal(expected[i], batch[i]);
            Assert.Equal(expected[i], model.PredictProbability(x.Row(i)));
        }
    }

    [Theory]
    [MemberData(nameof(PhishingData.Trainers), MemberType = typeof(PhishingData))]
    public void A_row_with_a_missing_value_is_scored_by_MLNets_engine(MLNetTrainer trainer)
    {
        var (model, _) = PhishingData.Fit(trainer);
        var (x, _) = PhishingData.Sample(500);
        var rows = x.Values.ToArray();
        rows[3] = double.NaN;
        var withMissing = new FeatureMatrix(rows, x.Rows, x.Columns);
        var expected = MLNetProbabilities(model, withMissing);
        var batch = new double[x.Rows];
        model.PredictProbabilities(withMissing, batch);
        Assert.Equal(expected[0], model.PredictProbability(withMissing.Row(0)), 1e-6);
        for (var i = 0; i < x.Rows; i++)
        {
            Assert.Equal(expected[i], batch[i], 1e-6);
        }

        Assert.Throws<ArgumentException>(() => model.Explain(withMissing.Row(0), new double[x.Columns]));
    }

    [Theory]
    [MemberData(nameof(PhishingData.Trainers), MemberType = typeof(PhishingData))]
    public void Contributions_plus_base_value_equal_the_log_odds_and_the_probability(MLNetTrainer trainer)
    {
        var (model, _) = PhishingData.Fit(trainer);
        Assert.Null(model.ExplanationUnavailableReason);
        Assert.Equal(ContributionScale.LogOdds, model.ContributionScale);
        var (x, _) = PhishingData.Sample(7, 3);
        var phi = new double[x.Columns];
        var nonZero = 0;
        for (var i = 0; i < x.Rows; i++)
        {
            model.Explain(x.Row(i), phi);
            Assert.Equal(model.RawOutput(x.Row(i)), model.BaseValue + phi.Sum(), 1e-9);
            Assert.Equal(model.PredictProbability(x.Row(i)), 1 / (1 + Math.Exp(-(model.BaseValue + phi.Sum()))), 1e-6);
            nonZero += phi.Count(v => v != 0);
        }

        Assert.True(nonZero > x.Rows, "the explanations should name features");
    }

    [Theory]
    [MemberData(nameof(PhishingData.Trainers), MemberType = typeof(PhishingData))]
    public void The_cover_counts_the_training_rows_so_the_base_value_is_their_mean_log_odds(MLNetTrainer trainer)
    {
        var (model, train) = PhishingData.Fit(trainer);
        Assert.All(model.Trees!.Trees, t => Assert.Equal(train.Rows, t.Cover![0]));
        var mean = Enumerable.Range(0, train.Rows).Average(i => model.RawOutput(train.Row(i)));
        Assert.Equal(mean, model.BaseValue, 1e-9);
    }

    [Theory]
    [MemberData(nameof(PhishingData.Trainers), MemberType = typeof(PhishingData))]
    public void The_cover_survives_a_round_trip_and_a_model_without_it_says_why_it_cannot_explain(MLNetTrainer trainer)
    {
        var (model, _) = PhishingData.Fit(trainer);
        using var zip = new MemoryStream();
        model.Save(zip);
        using var cover = new MemoryStream();
        using (var writer = new BinaryWriter(cover, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            model.WriteCover(writer);
        }

        zip.Position = 0;
        var bare = MLNetModel.Load(zip);
        Assert.Contains("retrain", bare.ExplanationUnavailableReason, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => bare.Explain(new double[30], new double[30]));

        cover.Position = 0;
        var loaded = bare.WithCover(new BinaryReader(cover));
        Assert.Null(loaded.ExplanationUnavailableReason);
        var (x, _) = PhishingData.Sample(50, 1);
        double[] expected = new double[30], actual = new double[30];
        for (var i = 0; i < x.Rows; i++)
        {
            model.Explain(x.Row(i), expected);
            loaded.Explain(x.Row(i), actual);
            Assert.Equal(expected, actual);
        }

        var truncated = new MemoryStream(cover.ToArray()[..^8]);
        Assert.ThrowsAny<Exception>(() => bare.WithCover(new BinaryReader(truncated)));
    }

    [Theory]
    [MemberData(nameof(PhishingData.Trainers), MemberType = typeof(PhishingData))]
    public void Explaining_a_batch_gives_what_each_row_gets_alone_and_matches_the_recursive_TreeSHAP(MLNetTrainer trainer)
    {
        var (model, _) = PhishingData.Fit(trainer);
        var (x, _) = PhishingData.Sample(20, 7);
        var batch = new double[x.Rows * x.Columns];
        model.ExplainRows(x, batch);
        var alone = new double[x.Columns];
        var recursive = new double[x.Columns];
        for (var i = 0; i < x.Rows; i++)
        {
            model.Explain(x.Row(i), alone);
            Assert.Equal(alone, batch.AsSpan(i * x.Columns, x.Columns).ToArray());

            // The reference: the recursive algorithm tree by tree on ML.NET's log-odds scale.
            Array.Clear(recursive);
            foreach (var tree in model.Trees!.Trees)
            {
                TreeShap.AddRecursive(tree, x.Row(i), recursive, -model.Trees.Slope);
            }

            for (var j = 0; j < x.Columns; j++)
            {
                Assert.Equal(recursive[j], alone[j], 1e-9);
            }
        }
    }
}
