using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.MLNet.Tests;

public sealed class MLNetSearchTests
{
    private static IReadOnlyDictionary<string, ILearnerFactory> Catalog(int seed) => LearnerCatalog.Default(seed).With(MLNetLearners.Factories(seed));

    private static GridCandidate Entry(string learner, params (string Key, string[] Values)[] grid) =>
        new(learner, learner, grid.Select(g => new KeyValuePair<string, IReadOnlyList<string>>(g.Key, g.Values)).ToArray());

    private static readonly GridCandidate[] Grid =
    [
        Entry("gradient_boosting", ("n_estimators", ["10", "40"]), ("max_depth", ["3"])),
        Entry("logistic_regression", ("c", ["1.0"])),
        Entry("fasttree", ("n_estimators", ["30"]), ("max_leaves", ["8"]), ("learning_rate", ["0.2"])),
        Entry("lightgbm", ("n_estimators", ["30"]), ("max_leaves", ["8", "16"]), ("learning_rate", ["0.2"])),
    ];

    [Fact]
    public void The_search_scores_MLNet_learners_on_the_same_folds_and_ranks_them_with_ours()
    {
        var (x, y) = PhishingData.Sample(8);
        var groups = Enumerable.Range(0, x.Rows).Select(i => i / 3).ToArray(); // grouped folds, as with a grouped split
        var result = new GridSearch(Catalog(5), folds: 3, seed: 5).Run(x, y, groups, Grid);

        Assert.Empty(result.Failures);
        Assert.Equal(6, result.Leaderboard.Count);
        Assert.Equal(3, result.Leaderboard.Count(e => e.Engine == MLNetLearners.Engine));
        Assert.Equal(["fasttree", "lightgbm", "lightgbm"], result.Leaderboard.Where(e => e.Engine == "ML.NET").Select(e => e.Learner).Order());
        Assert.All(result.Leaderboard.Where(e => e.Engine == LearnerCatalog.OwnEngine), e => Assert.DoesNotContain(e.Learner, new[] { "fasttree", "lightgbm" }));
        Assert.Equal(result.Leaderboard.Select(e => e.Mean).OrderDescending(), result.Leaderboard.Select(e => e.Mean));
        Assert.All(result.Leaderboard, e => Assert.InRange(e.FitSeconds, 1e-6, 60));
        Assert.All(result.Leaderboard.Where(e => e.Learner != "logistic_regression"), e => Assert.InRange(e.Mean, 0.85, 1.0));
        Assert.Same(result.Leaderboard[0], result.Best);
        Assert.Equal(result.Best.Engine == MLNetLearners.Engine, result.Model is MLNetModel);

        // Only ML.NET: the winner is an ML.NET model, refitted on every row.
        var mlNetOnly = new GridSearch(Catalog(5).Only(["fasttree", "lightgbm"]), folds: 3, seed: 5).Run(x, y, groups, Grid[2..]);
        Assert.IsType<MLNetModel>(mlNetOnly.Model);
        Assert.All(mlNetOnly.Leaderboard, e => Assert.Equal("ML.NET", e.Engine));
        var same = result.Leaderboard.Single(e => e.Learner == "fasttree");
        Assert.Equal(same.Mean, mlNetOnly.Leaderboard.Single(e => e.Learner == "fasttree").Mean); // same folds, same score
    }

    [Fact]
    public void A_learner_that_fails_is_reported_with_its_reason_and_the_search_goes_on()
    {
        var (x, y) = PhishingData.Sample(10);
        var broken = LearnerCatalog.CreateFactory("lightgbm_broken", null, MLNetLearners.Engine, p => new NativeLibraryMissing(p.Int("n_estimators", 10)));
        var catalog = Catalog(1).With([broken]);
        var grid = new[] { Grid[1], Entry("lightgbm_broken", ("n_estimators", ["10"])), Grid[2] };
        var result = new GridSearch(catalog, folds: 3, seed: 1).Run(x, y, null, grid);

        var failure = Assert.Single(result.Failures);
        Assert.Equal("lightgbm_broken", failure.Learner);
        Assert.Equal("ML.NET", failure.Engine);
        Assert.Contains("DllNotFoundException", failure.Error, StringComparison.Ordinal);
        Assert.Contains("lib_lightgbm", failure.Error, StringComparison.Ordinal);
        Assert.Equal(["fasttree", "logistic_regression"], result.Leaderboard.Select(e => e.Learner).Order());

        var all = Assert.Throws<GridSearchFailedException>(() => new GridSearch(catalog, folds: 3, seed: 1).Run(x, y, null, [grid[1]]));
        Assert.Contains("lightgbm_broken", all.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_learner_names_are_rejected_with_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => Catalog(1).Only(["fasttree", "xgboost"]));
        Assert.Contains("xgboost", error.Message, StringComparison.Ordinal);
        Assert.Contains("lightgbm", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Catalog(1).With(MLNetLearners.Factories(1)));
    }

    /// <summary>Fails the way ML.NET's LightGBM trainer does when its native library cannot be loaded.</summary>
    private sealed class NativeLibraryMissing(int trees) : ILearner
    {
        public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels) =>
            throw new DllNotFoundException($"Unable to load shared library 'lib_lightgbm' or one of its dependencies ({trees} trees asked).");
    }
}
