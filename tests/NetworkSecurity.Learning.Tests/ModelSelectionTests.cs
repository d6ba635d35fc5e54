using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Learning.ModelSelection;

namespace NetworkSecurity.Learning.Tests;

public sealed class ModelSelectionTests
{
    [Fact]
    public void Stratified_split_is_deterministic_disjoint_covering_and_balanced()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => i % 10 < 4 ? 0 : 1).ToArray();
        var a = TrainTestSplit.Stratified(labels, 0.2, 1);
        var b = TrainTestSplit.Stratified(labels, 0.2, 1);
        Assert.Equal(a.Test, b.Test);
        Assert.NotEqual(a.Test, TrainTestSplit.Stratified(labels, 0.2, 2).Test);
        Assert.Empty(a.Train.Intersect(a.Test));
        Assert.Equal(1000, a.Train.Union(a.Test).Count());
        Assert.Equal(80, a.Test.Count(i => labels[i] == 0));
        Assert.Equal(120, a.Test.Count(i => labels[i] == 1));
    }

    [Fact]
    public void Grouped_split_keeps_each_group_on_one_side()
    {
        var labels = Enumerable.Range(0, 600).Select(i => i % 3 == 0 ? 0 : 1).ToArray();
        var groups = Enumerable.Range(0, 600).Select(i => i / 4).ToArray();
        var split = TrainTestSplit.StratifiedGrouped(labels, groups, 0.25, 9);
        var testGroups = split.Test.Select(i => groups[i]).ToHashSet();
        Assert.DoesNotContain(split.Train, i => testGroups.Contains(groups[i]));
        Assert.InRange(split.Test.Length, 130, 170);
    }

    [Fact]
    public void Folds_are_stratified_disjoint_covering_and_grouped_when_asked()
    {
        var labels = Enumerable.Range(0, 503).Select(i => i % 5 == 0 ? 0 : 1).ToArray();
        var folds = CrossValidation.StratifiedFolds(labels, [], 5, 3);
        Assert.Equal(5, folds.Count);
        Assert.Equal(Enumerable.Range(0, 503), folds.SelectMany(f => f.Validation).Order());
        foreach (var fold in folds)
        {
            Assert.Empty(fold.Train.Intersect(fold.Validation));
            Assert.Equal(503, fold.Train.Length + fold.Validation.Length);
            Assert.InRange(fold.Validation.Count(i => labels[i] == 0), 20, 21);
        }

        var groups = Enumerable.Range(0, 503).Select(i => i / 7).ToArray();
        foreach (var fold in CrossValidation.StratifiedFolds(labels, groups, 5, 3))
        {
            var held = fold.Validation.Select(i => groups[i]).ToHashSet();
            Assert.DoesNotContain(fold.Train, i => held.Contains(groups[i]));
        }
    }

    [Fact]
    public void With_as_many_groups_of_the_smaller_class_as_folds_every_fold_holds_both_classes()
    {
        // Two groups of copies, of 4 and 6 rows: nine of class 0 and one of class 1 (in the second); 40 rows of class 1.
        int[] labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, .. Enumerable.Repeat(1, 40)];
        int[] groups = [7, 7, 7, 7, 8, 8, 8, 8, 8, 8, .. Enumerable.Range(100, 40)];
        Assert.Equal(9, CrossValidation.SmallestClassUnits(labels, []));
        Assert.Equal(2, CrossValidation.SmallestClassUnits(labels, groups)); // groups 7 and 8 are both mostly class 0
        Assert.Equal(0, CrossValidation.SmallestClassUnits([1, 1, 1], []));

        int[] five = [.. Enumerable.Range(0, 50).Select(i => i / 10)]; // five groups of ten class-0 rows
        int[] many = [.. five, .. Enumerable.Range(100, 50)];
        int[] both = [.. Enumerable.Repeat(0, 50), .. Enumerable.Repeat(1, 50)];
        Assert.Equal(5, CrossValidation.SmallestClassUnits(both, many));
        Assert.All(CrossValidation.StratifiedFolds(both, many, 5, 1), f => Assert.Equal([0, 1], f.Validation.Select(i => both[i]).Distinct().Order()));
    }

    [Fact]
    public void Search_finds_the_configuration_that_is_known_to_be_best_and_ranks_staged_values()
    {
        // Label = feature 0 > 0 with 10 % label noise everywhere: depth-1 trees are enough; the search must not
        // prefer a useless learning rate, and more boosting stages help up to a point.
        var random = new Random(4);
        var rows = Enumerable.Range(0, 800).Select(_ => new double[] { random.Next(3) - 1, random.Next(3) - 1, random.Next(3) - 1 }).ToArray();
        var labels = rows.Select(r => (r[0] > 0 ? 1 : 0) ^ (random.NextDouble() < 0.1 ? 1 : 0)).ToArray();
        var x = FeatureMatrix.FromRows(rows);
        var search = new GridSearch(LearnerCatalog.Default(1), folds: 4);
        var result = search.Run(x, labels, null,
        [
            new GridCandidate("gb", "gradient_boosting", [new("learning_rate", ["0.000001", "0.3"]), new("max_depth", ["1"]), new("n_estimators", ["1", "20"])]),
        ]);

        Assert.Equal(4, result.Leaderboard.Count);
        Assert.Equal("0.3", result.Best.Parameters["learning_rate"]);
        Assert.True(result.Leaderboard[0].Mean >= result.Leaderboard[^1].Mean);
        Assert.InRange(result.Best.Mean, 0.8, 1.0);
        var p = new double[x.Rows];
        result.Model.PredictProbabilities(x, p);
        Assert.True(BinaryClassificationMetrics.Compute(labels, p, 1).Accuracy > 0.85);
    }

    [Fact]
    public void A_search_cancelled_during_a_fold_fit_stops_and_is_not_reported_as_a_failed_learner()
    {
        // One fold's fit takes tens of seconds; the search stops within its fits, not after them, and the stop is not
        // taken for a learner error ("all candidates failed").
        var (x, y) = FirstTrainingRows(4000);
        using var stop = LearnerTests.CancelSoon(TimeSpan.FromMilliseconds(300));
        var search = new GridSearch(LearnerCatalog.Default(1), folds: 2);
        Assert.ThrowsAny<OperationCanceledException>(() => search.Run(x, y, null,
            [new GridCandidate("gb", "gradient_boosting", [new("max_depth", ["6"]), new("n_estimators", ["40000"])])], cancellationToken: stop.Token));
    }

    [Fact]
    public void Validation_rows_scored_block_by_block_give_the_scores_of_the_whole_fold_scored_at_once()
    {
        // The search copies a fold's validation rows out a block at a time (a copy of every fold's rows was a second copy
        // of the training matrix): with folds of two blocks and a part, each configuration's fold scores are those of
        // its model on the fold's rows copied whole.
        var (train, labels, _, _) = ReferenceData.PhishingSplit();
        var rows = Enumerable.Range(0, (2 * GridSearch.ValidationBlockRows) + 3000).Select(i => i % train.Rows).ToArray();
        var x = train.SelectRows(rows);
        var y = rows.Select(r => labels[r]).ToArray();
        GridCandidate[] grid =
        [
            new("gb", "gradient_boosting", [new("max_depth", ["2"]), new("n_estimators", ["3", "6"])]),
            new("lr", "logistic_regression", [new("c", ["1.0"])]),
        ];
        var catalog = LearnerCatalog.Default(1);
        var result = new GridSearch(catalog, folds: 2, scoring: "roc_auc", seed: 5).Run(x, y, null, grid);

        var folds = CrossValidation.StratifiedFolds(y, [], 2, 5);
        Assert.All(folds, f => Assert.True(f.Validation.Length > GridSearch.ValidationBlockRows && f.Validation.Length % GridSearch.ValidationBlockRows != 0));
        var binned = Trees.BinnedDataset.Create(x);
        foreach (var entry in result.Leaderboard)
        {
            var learner = catalog[entry.Learner].Create(entry.Parameters);
            var aucs = folds.Select(f =>
            {
                var model = learner is Trees.IBinnedLearner fast ? fast.Learn(binned, y, f.Train, CancellationToken.None) : learner.Learn(x.SelectRows(f.Train), f.Train.Select(i => y[i]).ToArray());
                var probabilities = new double[f.Validation.Length];
                model.PredictProbabilities(x.SelectRows(f.Validation), probabilities);
                return BinaryClassificationMetrics.ComputeRocAuc(f.Validation.Select(i => y[i]).ToArray(), probabilities, 1);
            }).ToArray();
            Assert.Equal(aucs.Average(), entry.Mean);
        }

        Assert.Equal(3, result.Leaderboard.Count);
    }

    private static (FeatureMatrix X, int[] Y) FirstTrainingRows(int count)
    {
        var (trainX, trainY, _, _) = ReferenceData.PhishingSplit();
        var rows = Enumerable.Range(0, count).ToArray();
        return (trainX.SelectRows(rows), trainY[..count]);
    }

    [Fact]
    public void Racing_drops_configurations_far_behind_after_two_folds_and_keeps_the_exhaustive_winner_and_scores()
    {
        var (x, y) = FirstTrainingRows(2500);
        GridCandidate[] grid =
        [
            new("gb", "gradient_boosting", [new("learning_rate", ["0.3", "0.0001"]), new("max_depth", ["2"]), new("n_estimators", ["10", "40"])]),
            new("lr", "logistic_regression", [new("c", ["1.0"])]),
        ];
        var exhaustive = new GridSearch(LearnerCatalog.Default(1), folds: 5, dropMargin: 0).Run(x, y, null, grid);
        var raced = new GridSearch(LearnerCatalog.Default(1), folds: 5).Run(x, y, null, grid);

        Assert.All(exhaustive.Leaderboard, e => Assert.Equal(5, e.Folds));
        Assert.Equal(exhaustive.Best.Parameters, raced.Best.Parameters);
        Assert.Equal(exhaustive.Best.Mean, raced.Best.Mean);
        // The slow learning rate is far behind after two folds: scored on those only, and ranked after every full score.
        var dropped = raced.Leaderboard.Where(e => e.Folds == 2).ToArray();
        Assert.NotEmpty(dropped);
        Assert.All(dropped, e => Assert.True(e.Parameters.GetValueOrDefault("learning_rate") == "0.0001" || e.Learner == "logistic_regression", e.ParameterText));
        var firstDropped = raced.Leaderboard.ToList().FindIndex(e => e.Folds == 2);
        Assert.All(raced.Leaderboard.Skip(firstDropped), e => Assert.Equal(2, e.Folds));
        // Every configuration still in the race has exactly the exhaustive search's score.
        foreach (var entry in raced.Leaderboard.Where(e => e.Folds == 5))
        {
            Assert.Equal(exhaustive.Leaderboard.Single(e => e.ParameterText == entry.ParameterText && e.Learner == entry.Learner).Mean, entry.Mean);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => new GridSearch(LearnerCatalog.Default(1), dropMargin: -0.1));

        // Unset, the margin follows the score's own spread: AUC moves several times less than F1 between folds.
        Assert.Equal(0.01, new GridSearch(LearnerCatalog.Default(1)).DropMargin);
        Assert.Equal(0.003, new GridSearch(LearnerCatalog.Default(1), scoring: "roc_auc").DropMargin);
        Assert.Equal(0.02, new GridSearch(LearnerCatalog.Default(1), scoring: "roc_auc", dropMargin: 0.02).DropMargin);
        Assert.Equal(5, new GridSearch(LearnerCatalog.Default(1), scoring: "roc_auc", dropMargin: 0).RaceFolds);
    }

    [Fact]
    public void Every_entry_reports_its_cross_validated_f1_whatever_score_ranks_the_search()
    {
        var (x, y) = FirstTrainingRows(2000);
        GridCandidate[] grid =
        [
            new("gb", "gradient_boosting", [new("learning_rate", ["0.3"]), new("max_depth", ["3"]), new("n_estimators", ["5", "30"])]),
            new("rf", "random_forest", [new("n_estimators", ["10"])]),
        ];
        var byF1 = new GridSearch(LearnerCatalog.Default(1), folds: 3, dropMargin: 0).Run(x, y, null, grid);
        var byAuc = new GridSearch(LearnerCatalog.Default(1), folds: 3, scoring: "roc_auc", dropMargin: 0).Run(x, y, null, grid);

        Assert.Equal(3, byAuc.Leaderboard.Count);
        foreach (var entry in byAuc.Leaderboard)
        {
            var same = byF1.Leaderboard.Single(e => e.Learner == entry.Learner && e.ParameterText == entry.ParameterText);
            Assert.Equal(same.Mean, entry.F1, 12); // same folds, same fits: the F1 the F1-ranked search scored
            Assert.Equal(same.Mean, same.F1, 12);
            Assert.InRange(entry.Mean, 0.5, 1.0);
            Assert.NotEqual(entry.F1, entry.Mean); // ranked by AUC, not by F1
        }

        Assert.True(byAuc.Leaderboard.Zip(byAuc.Leaderboard.Skip(1)).All(p => p.First.Mean >= p.Second.Mean));
    }

    [Fact]
    public void Staged_scores_equal_separately_fitted_scores()
    {
        var (x, y) = FirstTrainingRows(2000);
        var search = new GridSearch(LearnerCatalog.Default(1), folds: 3);
        var staged = search.Run(x, y, null, [new GridCandidate("rf", "random_forest", [new("n_estimators", ["5", "10"])])]);
        var single = search.Run(x, y, null, [new GridCandidate("rf", "random_forest", [new("n_estimators", ["5"])])]);
        Assert.Equal(single.Leaderboard[0].Mean, staged.Leaderboard.Single(e => e.Parameters["n_estimators"] == "5").Mean, 12);
    }

    [Fact]
    public void The_average_entry_passes_prefixed_hyperparameters_to_its_members()
    {
        var factory = LearnerCatalog.Default(1)["gbdt_forest_average"];
        var learner = (AveragingLearner)factory.Create(new Dictionary<string, string>
        {
            ["gbdt.max_leaves"] = "8", ["gbdt.colsample_bynode"] = "0.5", ["gbdt.colsample_bytree"] = "0.6", ["forest.n_estimators"] = "7", ["forest_weight"] = "0.25",
        });
        var gbdt = Assert.IsType<GradientBoostingLearner>(learner.Members[0]);
        Assert.Equal((8, 0.5, 0.6), (gbdt.MaxLeaves, gbdt.ColsampleByNode, gbdt.ColsampleByTree));
        Assert.Equal(7, Assert.IsType<RandomForestLearner>(learner.Members[1]).NEstimators);
        Assert.Equal([0.75, 0.25], learner.Weights);
        var ex = Assert.Throws<ParameterException>(() => factory.Create(new Dictionary<string, string> { ["forest.depth"] = "3" }));
        Assert.Contains("random_forest: unknown hyperparameter(s) depth", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_grids_unknown_learners_and_bad_values_give_clear_errors()
    {
        var x = FeatureMatrix.FromRows([[0], [1], [0], [1], [0], [1]]);
        int[] y = [0, 1, 0, 1, 0, 1];
        var search = new GridSearch(LearnerCatalog.Default(1), folds: 2);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => search.Run(x, y, null, [])).Message);
        Assert.Contains("unknown learner 'svm'", Assert.Throws<ArgumentException>(() => search.Run(x, y, null, [new GridCandidate("svm", "svm", [])])).Message);
        Assert.Contains("lists no values", Assert.Throws<ArgumentException>(() => search.Run(x, y, null, [new GridCandidate("gb", "gradient_boosting", [new("learning_rate", [])])])).Message);
        var bad = Assert.ThrowsAny<ArgumentException>(() => search.Run(x, y, null, [new GridCandidate("gb", "gradient_boosting", [new("learning_rate", ["fast"])])]));
        Assert.Contains("gradient_boosting: learning_rate = 'fast' is not a number", bad.Message);
        var unknown = Assert.ThrowsAny<ArgumentException>(() => search.Run(x, y, null, [new GridCandidate("rf", "random_forest", [new("colour", ["red"])])]));
        Assert.Contains("unknown hyperparameter(s) colour", unknown.Message);
        // A learner's own guard clause, in the grid's words: the value refused, not .NET's "(Parameter 'learningRate')".
        var range = Assert.ThrowsAny<ArgumentException>(() => search.Run(x, y, null, [new GridCandidate("gb", "gradient_boosting", [new("learning_rate", ["2"])])]));
        Assert.Equal("gradient_boosting: learning_rate must be in (0, 1] (got 2).", range.Message);
    }
}
