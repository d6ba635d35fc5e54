using System.Diagnostics;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.ModelSelection;

/// <summary>One entry of a grid: a name, the learner it uses, and the values to try for each hyperparameter.</summary>
public sealed record GridCandidate(string Name, string Learner, IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Grid);

/// <summary>
/// A scored configuration: mean and standard deviation of the fold scores, mean fit seconds per fold, how many folds
/// scored it (fewer than the search's when it was dropped early, out of the running), the engine that implements
/// the learner ("ours", "ML.NET"), and its mean F1 (legitimate) over the same folds, whatever the ranking score.
/// </summary>
public sealed record GridSearchEntry(string Candidate, string Learner, IReadOnlyDictionary<string, string> Parameters, double Mean, double Std, double FitSeconds, int Folds, string Engine = LearnerCatalog.OwnEngine, double F1 = double.NaN)
{
    public string ParameterText => string.Join(", ", Parameters.Select(p => $"{p.Key}={p.Value}"));
}

/// <summary>A configuration whose fit or scoring failed (e.g. a native library that cannot load): left out of the ranking.</summary>
public sealed record GridSearchFailure(string Candidate, string Learner, string Engine, IReadOnlyDictionary<string, string> Parameters, string Error)
{
    public string ParameterText => string.Join(", ", Parameters.Select(p => $"{p.Key}={p.Value}"));
}

public sealed record GridSearchResult(IReadOnlyList<GridSearchEntry> Leaderboard, GridSearchEntry Best, IClassifierModel Model, IReadOnlyList<GridSearchFailure> Failures);

/// <summary>
/// Grid search with stratified (optionally grouped) k-fold cross-validation on the training rows only, then a
/// refit of the best configuration on all of them. The data are binned once and shared by every tree learner, fold
/// and configuration; configurations that differ only in a staged parameter (n_estimators) are fitted once per fold
/// and scored for every value; fold fits run in parallel. Configurations are raced: every one is scored on the first
/// <see cref="RaceFolds"/> folds, and only those within <see cref="DropMargin"/> of the best mean so far go on to the
/// remaining folds (a configuration that far behind on two folds does not win on five, and most of the seed grid's
/// slow-learning configurations are); the winner and every close contender are scored on all folds, and the ranking
/// puts fully scored configurations first. A configuration that throws (e.g. an ML.NET trainer whose
/// native library cannot load) is reported in <see cref="GridSearchResult.Failures"/> with the reason and the search
/// goes on with the others; it fails only when no configuration could be fitted.
/// </summary>
public sealed class GridSearch
{
    private readonly IReadOnlyDictionary<string, ILearnerFactory> _catalog;

    public GridSearch(IReadOnlyDictionary<string, ILearnerFactory> catalog, int folds = 5, string scoring = "f1", int seed = 42, double? dropMargin = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (folds < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(folds), folds, "Cross-validation needs at least 2 folds.");
        }

        if (scoring is not ("f1" or "accuracy" or "roc_auc"))
        {
            throw new ArgumentOutOfRangeException(nameof(scoring), scoring, "scoring must be f1, accuracy or roc_auc.");
        }

        var margin = dropMargin ?? DefaultDropMargin(scoring);
        if (!(margin >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(dropMargin), dropMargin, "The drop margin is a score difference: 0 or more (0 = score every configuration on every fold).");
        }

        _catalog = catalog;
        DropMargin = margin;
        Folds = folds;
        Scoring = scoring;
        Seed = seed;
    }

    /// <summary>
    /// The default <see cref="DropMargin"/>: about three standard errors of a two-fold mean of the score on this data.
    /// The leading configurations' fold AUCs spread by about 0.0013, so a two-fold mean by about 0.0009; F1 spreads
    /// several times more.
    /// </summary>
    public static double DefaultDropMargin(string scoring) => scoring == "roc_auc" ? 0.003 : 0.01;

    public int Folds { get; }

    /// <summary>
    /// How far (in score) below the best configuration's mean over the first <see cref="RaceFolds"/> folds a
    /// configuration may be and still be scored on the other folds; 0 scores every configuration on every fold.
    /// </summary>
    public double DropMargin { get; }

    /// <summary>The folds every configuration is scored on before the race drops any (none when the search has 3 folds or fewer).</summary>
    public int RaceFolds => DropMargin > 0 && Folds > 3 ? 2 : Folds;

    public string Scoring { get; }

    public int Seed { get; }

    public GridSearchResult Run(FeatureMatrix features, int[] labels, int[]? groups, IReadOnlyList<GridCandidate> candidates, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        TrainingInput.Check(features, labels); // once, not as the same failure of every configuration

        // A fold without one of the classes scores F1 0 or AUC NaN: means of those ranked the grid by chance.
        var units = CrossValidation.SmallestClassUnits(labels, groups ?? []);
        if (units < Folds)
        {
            throw new ArgumentException(
                $"The smaller class has {units} {(groups is null ? "rows" : "groups (by majority label)")} among the {labels.Length} training rows: too few for {Folds}-fold cross-validation, where every fold needs both classes.",
                nameof(labels));
        }

        var jobs = Jobs(candidates);
        var folds = CrossValidation.StratifiedFolds(labels, groups ?? [], Folds, Seed);
        var binned = BinnedDataset.Create(features);
        var validationLabels = folds.Select(f => f.Validation.Select(i => labels[i]).ToArray()).ToArray();

        // scores[job][stage][fold], and the F1 beside it (the quality gate's measure when the ranking score is another)
        var scores = jobs.Select(j => j.Stages.Select(_ => new double[Folds]).ToArray()).ToArray();
        var f1 = jobs.Select(j => j.Stages.Select(_ => new double[Folds]).ToArray()).ToArray();
        var seconds = jobs.Select(_ => new double[Folds]).ToArray();
        var errors = new string?[jobs.Count];
        var scored = new int[jobs.Count]; // folds each configuration was scored on
        var done = 0;
        var total = jobs.Count * Folds;
        var all = Enumerable.Range(0, jobs.Count).ToArray();
        RunFolds(all, 0, RaceFolds);
        if (RaceFolds < Folds)
        {
            // Best mean over the raced folds, per configuration (its best staged value) and overall.
            var raced = all.Select(j => errors[j] is null ? jobs[j].Stages.Select((_, s) => scores[j][s].Take(RaceFolds).Average()).Max() : double.NegativeInfinity).ToArray();
            var leader = raced.Max();
            var running = all.Where(j => errors[j] is null && raced[j] >= leader - DropMargin).ToArray();
            total = (jobs.Count * RaceFolds) + (running.Length * (Folds - RaceFolds));
            RunFolds(running, RaceFolds, Folds);
        }

        void RunFolds(int[] jobIndexes, int firstFold, int endFold)
        {
            var tasks = jobIndexes.SelectMany(j => Enumerable.Range(firstFold, endFold - firstFold).Select(f => (Job: j, Fold: f)))
                .OrderByDescending(t => jobs[t.Job].Cost).ToArray(); // big fits first keeps both cores busy to the end
            foreach (var j in jobIndexes)
            {
                scored[j] = endFold;
            }

            Parallel.ForEach(tasks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken }, task =>
            {
                if (Volatile.Read(ref errors[task.Job]) is null)
                {
                    try
                    {
                        FitAndScore(task.Job, task.Fold);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                    {
                        Interlocked.CompareExchange(ref errors[task.Job], Describe(ex), null);
                    }
                }

                progress?.Report((double)Interlocked.Increment(ref done) / Volatile.Read(ref total));
            });
        }

        void FitAndScore(int jobIndex, int foldIndex)
        {
            var job = jobs[jobIndex];
            var clock = Stopwatch.StartNew();
            var model = Fit(job.Learner, features, binned, labels, folds[foldIndex].Train, cancellationToken);
            seconds[jobIndex][foldIndex] = clock.Elapsed.TotalSeconds;
            var y = validationLabels[foldIndex];
            var probabilities = new double[y.Length];
            for (var s = 0; s < job.Stages.Length; s++)
            {
                ScoreValidation(model, job.Stages[s], features, folds[foldIndex].Validation, probabilities);
                var metrics = BinaryClassificationMetrics.Compute(y, probabilities, 1);
                f1[jobIndex][s][foldIndex] = metrics.F1;
                scores[jobIndex][s][foldIndex] = Scoring switch
                {
                    "accuracy" => metrics.Accuracy,
                    "roc_auc" => BinaryClassificationMetrics.ComputeRocAuc(y, probabilities, 1),
                    _ => metrics.F1,
                };
            }
        }

        var entries = new List<GridSearchEntry>();
        var failures = new List<GridSearchFailure>();
        for (var j = 0; j < jobs.Count; j++)
        {
            if (errors[j] is { } error)
            {
                failures.Add(new GridSearchFailure(jobs[j].Candidate, jobs[j].LearnerName, jobs[j].Engine, jobs[j].Parameters, error));
                continue;
            }

            for (var s = 0; s < jobs[j].Stages.Length; s++)
            {
                var foldScores = scores[j][s].AsSpan(0, scored[j]).ToArray();
                var mean = foldScores.Average();
                var std = Math.Sqrt(foldScores.Average(v => (v - mean) * (v - mean)));
                entries.Add(new GridSearchEntry(jobs[j].Candidate, jobs[j].LearnerName, jobs[j].ParametersAt(s), mean, std, seconds[j].Take(scored[j]).Average(), scored[j], jobs[j].Engine, f1[j][s].Take(scored[j]).Average()));
            }
        }

        // Configurations scored on every fold rank first (a mean over two folds is not comparable with one over five).
        // Stable sort: on equal scores the configuration listed first (usually the simpler one) wins.
        var leaderboard = entries.Select((e, i) => (e, i)).OrderByDescending(x => x.e.Folds).ThenByDescending(x => x.e.Mean).ThenBy(x => x.i).Select(x => x.e).ToList();
        var everyRow = Enumerable.Range(0, features.Rows).ToArray();

        // The refit can fail like a fold fit: the next best configuration then wins and the failure is reported.
        for (var rank = 0; rank < leaderboard.Count; rank++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var candidate = leaderboard[rank];
            try
            {
                var model = Fit(_catalog[candidate.Learner].Create(candidate.Parameters), features, binned, labels, everyRow, cancellationToken);
                return new GridSearchResult(leaderboard.Skip(rank).ToList(), candidate, model, failures);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                failures.Add(new GridSearchFailure(candidate.Candidate, candidate.Learner, candidate.Engine, candidate.Parameters, "refit on all rows: " + Describe(ex)));
            }
        }

        throw new GridSearchFailedException(failures);
    }

    /// <summary>Validation rows scored per block of <see cref="ValidationBlockRows"/>.</summary>
    public const int ValidationBlockRows = 8192;

    // A fold's validation rows are copied out of the training matrix a block at a time: a copy of every fold's rows made
    // up front was a second copy of the whole matrix (eight bytes a cell) held for the length of the search. Every model
    // scores each row on its own, so the probabilities are the same.
    private static void ScoreValidation(IClassifierModel model, int? stages, FeatureMatrix features, int[] rows, double[] destination)
    {
        var block = new FeatureMatrix(Math.Min(ValidationBlockRows, rows.Length), features.Columns);
        for (var start = 0; start < rows.Length; start += ValidationBlockRows)
        {
            var count = Math.Min(ValidationBlockRows, rows.Length - start);
            var x = count == block.Rows ? block : new FeatureMatrix(count, features.Columns);
            for (var i = 0; i < count; i++)
            {
                features.Row(rows[start + i]).CopyTo(x.RowSpan(i));
            }

            var output = destination.AsSpan(start, count);
            if (stages is { } n && model is IStagedClassifierModel staged)
            {
                staged.PredictProbabilities(x, Math.Min(n, staged.StageCount), output);
            }
            else
            {
                model.PredictProbabilities(x, output);
            }
        }
    }

    private static string Describe(Exception ex) => ex.InnerException is { } inner && ex is TypeInitializationException or System.Reflection.TargetInvocationException
        ? $"{inner.GetType().Name}: {inner.Message}"
        : $"{ex.GetType().Name}: {ex.Message}";

    private static IClassifierModel Fit(ILearner learner, FeatureMatrix features, BinnedDataset binned, int[] labels, int[] rows, CancellationToken cancellationToken) =>
        learner is IBinnedLearner fast
            ? fast.Learn(binned, labels, rows, cancellationToken)
            : learner.Learn(features.SelectRows(rows), rows.Select(i => labels[i]).ToArray());

    /// <summary>One fit per fold: a configuration, with the staged values it is scored at (null = the model as is).</summary>
    private sealed record Job(string Candidate, string LearnerName, string Engine, ILearner Learner, Dictionary<string, string> Parameters, string? StagedParameter, int?[] Stages)
    {
        // Rough relative fit cost, to schedule big fits first. Other engines' fits (ML.NET) cost several of ours per tree.
        public double Cost => (Stages.Max() ?? Math.Max(1, Parameters.Where(p => p.Key.EndsWith("n_estimators", StringComparison.Ordinal))
            .Sum(p => int.TryParse(p.Value, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0)))
            * (LearnerName == "logistic_regression" ? 0.1 : 1) * (Engine == LearnerCatalog.OwnEngine ? 1 : 10);

        public IReadOnlyDictionary<string, string> ParametersAt(int stage)
        {
            if (StagedParameter is null || Stages[stage] is not { } value)
            {
                return Parameters;
            }

            return new Dictionary<string, string>(Parameters) { [StagedParameter] = value.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        }
    }

    /// <summary>
    /// Checks <paramref name="candidates"/> as <see cref="Run"/> takes them (known learners, values each learner accepts)
    /// without fitting anything: a caller can tell a grid's problem apart from a failure of the search on its data.
    /// </summary>
    /// <exception cref="ArgumentException">The grid's problem, naming its entry.</exception>
    public void Check(IReadOnlyList<GridCandidate> candidates) => _ = Jobs(candidates);

    private List<Job> Jobs(IReadOnlyList<GridCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var jobs = Expand(candidates);
        return jobs.Count > 0 ? jobs : throw new ArgumentException("The grid is empty: list at least one learner with its hyperparameter values.", nameof(candidates));
    }

    private List<Job> Expand(IReadOnlyList<GridCandidate> candidates)
    {
        var jobs = new List<Job>();
        foreach (var candidate in candidates)
        {
            if (!_catalog.TryGetValue(candidate.Learner, out var factory))
            {
                throw new ArgumentException($"Grid entry '{candidate.Name}': unknown learner '{candidate.Learner}' (known: {string.Join(", ", _catalog.Keys)}).");
            }

            var empty = candidate.Grid.FirstOrDefault(g => g.Value.Count == 0);
            if (empty.Key is not null)
            {
                throw new ArgumentException($"Grid entry '{candidate.Name}': hyperparameter '{empty.Key}' lists no values.");
            }

            var staged = factory.StagedParameter is { } name ? candidate.Grid.FirstOrDefault(g => g.Key == name) : default;
            var fixedGrid = candidate.Grid.Where(g => g.Key != staged.Key).ToList();
            foreach (var combination in Combinations(fixedGrid))
            {
                int?[] stages = [null];
                var parameters = new Dictionary<string, string>(combination, StringComparer.Ordinal);
                if (staged.Key is not null)
                {
                    stages = staged.Value.Select(v => int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
                        ? (int?)n
                        : throw new ArgumentException($"Grid entry '{candidate.Name}': {staged.Key} = '{v}' is not a positive integer.")).Distinct().Order().ToArray();
                    parameters[staged.Key] = stages.Max()!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                var learner = factory.Create(parameters); // validates every hyperparameter before any work starts
                jobs.Add(new Job(candidate.Name, candidate.Learner, factory.Engine, learner, parameters, staged.Key, stages));
            }
        }

        return jobs;
    }

    private static IEnumerable<List<KeyValuePair<string, string>>> Combinations(List<KeyValuePair<string, IReadOnlyList<string>>> grid)
    {
        IEnumerable<List<KeyValuePair<string, string>>> result = [[]];
        foreach (var (key, values) in grid)
        {
            result = result.SelectMany(prefix => values.Select(v => new List<KeyValuePair<string, string>>(prefix) { new(key, v) })).ToList();
        }

        return result;
    }
}

/// <summary>No configuration of the grid could be fitted and scored; the message lists each one with its reason.</summary>
public sealed class GridSearchFailedException(IReadOnlyList<GridSearchFailure> failures)
    : InvalidOperationException("Every configuration of the grid failed: " + string.Join("; ", failures.Select(f => $"{f.Learner} ({f.ParameterText}): {f.Error}")))
{
    public IReadOnlyList<GridSearchFailure> Failures { get; } = failures;
}
