using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.ModelSelection;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// The search run once per engine (ours; each ML.NET learner) on the very same folds, for an honest side-by-side
/// comparison. The overall winner is the best CV score across engines, which is what one search over the whole grid
/// chooses, so <c>evaluate</c> gets both from the same fits.
/// </summary>
public static class EngineComparison
{
    public sealed record EngineResult(string Engine, TrainedModel Trained);

    public static (TrainedModel Best, IReadOnlyList<EngineResult> PerEngine) Train(
        string gridPath, int folds, string scoring, int seed, string? learners, FeatureMatrix features, int[] labels, int[]? groups, CancellationToken cancellationToken)
    {
        var catalog = GridSearchTrainer.Catalog(seed);
        var wanted = (learners ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // The grid's entries asked for (by their learner or their own name), searched per engine by entry name.
        var inGrid = GridFile.Load(gridPath)
            .Where(c => catalog.ContainsKey(c.Learner) && (wanted.Length == 0 || wanted.Contains(c.Learner) || wanted.Contains(c.Name)))
            .ToArray();
        var perEngine = inGrid
            .GroupBy(c => catalog[c.Learner].Engine == LearnerCatalog.OwnEngine ? LearnerCatalog.OwnEngine : $"{catalog[c.Learner].Engine} {c.Learner}")
            .Select(g => new EngineResult(g.Key, new GridSearchTrainer(gridPath, folds, scoring, seed, string.Join(',', g.Select(c => c.Name).Distinct())).Train(features, labels, groups, null, cancellationToken)))
            .ToArray();
        if (perEngine.Length == 0)
        {
            return (new GridSearchTrainer(gridPath, folds, scoring, seed, learners).Train(features, labels, groups, null, cancellationToken), perEngine);
        }

        return (perEngine.OrderByDescending(e => e.Trained.CvScore).First().Trained, perEngine);
    }
}
