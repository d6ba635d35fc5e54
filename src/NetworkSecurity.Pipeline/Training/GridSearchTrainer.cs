using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.ModelSelection;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// Chooses the model by cross-validated grid search over the learner family (Training:Mode = search): our own learners
/// and ML.NET's (FastTree, LightGBM) on the very same folds, the best one winning whatever its engine.
/// <paramref name="learners"/> ("fasttree,lightgbm"; empty = all) keeps only the grid entries of those learners, or the
/// entries of those names ("gradient_boosting_leafwise").
/// The test rows are never seen here: the pipeline only uses them afterwards, for the report. Configurations more than
/// <paramref name="dropMargin"/> behind the best after two folds are not scored on the rest (see <see cref="GridSearch"/>).
/// </summary>
public sealed class GridSearchTrainer(string gridPath, int folds, string scoring, int seed, string? learners = null, double? dropMargin = null) : IModelTrainer
{
    public int CrossValidationFolds => folds;

    /// <summary>Every learner the search knows: the library's own plus the ML.NET ones wired in here.</summary>
    public static IReadOnlyDictionary<string, ILearnerFactory> Catalog(int seed) =>
        LearnerCatalog.Default(seed).With(MLNetLearners.Factories(seed));

    /// <summary>
    /// The grid file's entries, each checked as the search takes it (a known learner, values that learner accepts),
    /// without fitting anything.
    /// </summary>
    /// <exception cref="PipelineException">The file is missing or is not a grid.</exception>
    /// <exception cref="SettingException">An entry the search cannot use, named with the file.</exception>
    public static IReadOnlyList<GridCandidate> LoadChecked(string gridPath, int seed = 0)
    {
        var candidates = GridFile.Load(gridPath);
        try
        {
            new GridSearch(Catalog(seed)).Check(candidates);
        }
        catch (ArgumentException ex)
        {
            // Without the "(Parameter 'x')" suffix meant for developers.
            var message = ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
            throw new SettingException($"Grid file '{gridPath}': {message}", ex);
        }

        return candidates;
    }

    public TrainedModel Train(FeatureMatrix features, int[] labels, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        // The grid is checked on its own: an ArgumentException of the search itself (the data, a bug) was reported as
        // the grid file's problem.
        var candidates = LoadChecked(gridPath, seed);
        var catalog = Catalog(seed);
        var wanted = (learners ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (wanted.Length > 0)
        {
            // A learner's name keeps every entry of that learner; an entry's name (gradient_boosting_leafwise) keeps it.
            var unknown = wanted.Where(w => !catalog.ContainsKey(w) && candidates.All(c => c.Name != w)).ToArray();
            if (unknown.Length > 0)
            {
                throw new SettingException($"Training:Learners (--learners): {string.Join(", ", unknown)} is neither a learner ({string.Join(", ", catalog.Keys)}) nor an entry of '{gridPath}' ({string.Join(", ", candidates.Select(c => c.Name))}).");
            }

            candidates = candidates.Where(c => wanted.Contains(c.Name) || wanted.Contains(c.Learner)).ToArray();
            var missing = wanted.Where(w => candidates.All(c => c.Learner != w && c.Name != w)).ToArray();
            if (missing.Length > 0)
            {
                throw new SettingException($"Grid file '{gridPath}' has no entry for learner(s) {string.Join(", ", missing)} asked for by Training:Learners.");
            }

            catalog = Only(catalog, [.. candidates.Select(c => c.Learner).Distinct()]);
        }

        EnoughForFolds(labels, groups, folds);
        GridSearchResult result;
        try
        {
            result = new GridSearch(catalog, folds, scoring, seed, dropMargin).Run(features, labels, groups, candidates, progress, cancellationToken);
        }
        catch (GridSearchFailedException ex)
        {
            throw new PipelineException(ex.Message, ex);
        }

        if (!double.IsFinite(result.Best.Mean))
        {
            // No fold gave a score (a fold without one of the classes, or probabilities that are not numbers): the ranking
            // would be the grid's order, not a choice.
            throw new PipelineException($"Cross-validation gave no {scoring} score for any configuration of '{gridPath}' (best: {result.Best.Learner}, {result.Best.ParameterText}); every fold must hold rows of both classes.");
        }

        var leaderboard = result.Leaderboard
            .Select((e, i) => new LeaderboardEntry(i + 1, e.Candidate == e.Learner ? e.Learner : $"{e.Learner} ({e.Candidate})", e.ParameterText, e.Mean, e.Std, e.FitSeconds, e.Engine, e.Folds, e.F1))
            .ToArray();
        var failures = result.Failures.Select(f => new LearnerFailure(f.Candidate == f.Learner ? f.Learner : $"{f.Learner} ({f.Candidate})", f.Engine, f.ParameterText, f.Error)).ToArray();
        return new TrainedModel(result.Model, result.Best.Learner, result.Best.Parameters, scoring, result.Best.Mean, result.Best.Std, leaderboard, failures, result.Best.F1, result.Best.Candidate);
    }

    // Each fold needs rows of both classes to score (stratified), or with a grouped split whole groups of copies of both
    // classes (a group goes where its majority label says): say so in terms of the data. Fewer gave folds without a
    // class, NaN scores everywhere and a "winner" that was merely listed first.
    public static void EnoughForFolds(int[] labels, int[]? groups, int folds)
    {
        var units = CrossValidation.SmallestClassUnits(labels, groups ?? []);
        if (units < folds)
        {
            var what = groups is null
                ? $"The smaller class has {units} of the {labels.Length} training rows"
                : $"The smaller class is the more common label of {units} distinct feature vectors among the {labels.Length} training rows (copies of one vector stay in one fold, counted for the label most of them carry)";
            throw new PipelineException($"{what}: too few for {folds}-fold cross-validation, where every fold needs rows of both classes; give more rows of that class or fewer folds (--folds).");
        }
    }

    private static IReadOnlyDictionary<string, ILearnerFactory> Only(IReadOnlyDictionary<string, ILearnerFactory> catalog, string[] wanted)
    {
        try
        {
            return catalog.Only(wanted);
        }
        catch (ArgumentException ex)
        {
            throw new SettingException($"Training:Learners (--learners): {ex.Message}", ex);
        }
    }
}
