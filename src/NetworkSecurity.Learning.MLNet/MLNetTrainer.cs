namespace NetworkSecurity.Learning.MLNet;

/// <summary>The ML.NET binary trainers offered as learners.</summary>
public enum MLNetTrainer
{
    /// <summary>Microsoft.ML.FastTree's boosted trees (managed, with a small native helper).</summary>
    FastTree,

    /// <summary>Microsoft.ML.LightGbm: ML.NET's wrapper over the native LightGBM library (needs OpenMP, libgomp1).</summary>
    LightGbm,
}

/// <summary>
/// Hyperparameters shared by both trainers, named as in our grid: n_estimators, max_leaves, learning_rate,
/// min_samples_leaf; l2 and subsample apply to LightGBM only. Threads = 0 uses every core.
/// </summary>
public sealed record MLNetOptions(
    int NEstimators = 100,
    int MaxLeaves = 20,
    double LearningRate = 0.2,
    int MinSamplesLeaf = 10,
    double L2 = 0.01,
    double Subsample = 1.0,
    int Threads = 1,
    int Seed = 42)
{
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NEstimators, 1, "n_estimators");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLeaves, 2, "max_leaves");
        if (!(LearningRate > 0 && LearningRate <= 1))
        {
            throw new ArgumentOutOfRangeException("learning_rate", LearningRate, "learning_rate must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MinSamplesLeaf, 1, "min_samples_leaf");
        ArgumentOutOfRangeException.ThrowIfNegative(Threads, "threads");
        if (!(L2 >= 0))
        {
            throw new ArgumentOutOfRangeException("l2", L2, "l2 must be ≥ 0.");
        }

        if (!(Subsample > 0 && Subsample <= 1))
        {
            throw new ArgumentOutOfRangeException("subsample", Subsample, "subsample must be in (0, 1].");
        }
    }
}
