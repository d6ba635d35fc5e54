using NetworkSecurity.Learning.ModelSelection;

namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// The ML.NET learners for the search catalog (<c>LearnerCatalog.Default(seed).With(MLNetLearners.Factories(seed))</c>):
/// "fasttree" and "lightgbm", with our grid's parameter names mapped onto ML.NET's options.
/// </summary>
public static class MLNetLearners
{
    public const string Engine = "ML.NET";
    public const string FastTree = "fasttree";
    public const string LightGbm = "lightgbm";

    public static IReadOnlyList<ILearnerFactory> Factories(int seed) =>
    [
        LearnerCatalog.CreateFactory(FastTree, null, Engine, p => new MLNetLearner(MLNetTrainer.FastTree, Read(p, seed, lightGbm: false))),
        LearnerCatalog.CreateFactory(LightGbm, null, Engine, p => new MLNetLearner(MLNetTrainer.LightGbm, Read(p, seed, lightGbm: true))),
    ];

    private static MLNetOptions Read(LearnerParameters p, int seed, bool lightGbm)
    {
        var defaults = new MLNetOptions();
        return new MLNetOptions(
            NEstimators: p.Int("n_estimators", defaults.NEstimators),
            MaxLeaves: p.Int("max_leaves", defaults.MaxLeaves),
            LearningRate: p.Double("learning_rate", defaults.LearningRate),
            MinSamplesLeaf: p.Int("min_samples_leaf", defaults.MinSamplesLeaf),
            L2: lightGbm ? p.Double("l2", defaults.L2) : defaults.L2,
            Subsample: lightGbm ? p.Double("subsample", defaults.Subsample) : defaults.Subsample,
            Threads: p.Int("threads", defaults.Threads),
            Seed: seed);
    }
}
