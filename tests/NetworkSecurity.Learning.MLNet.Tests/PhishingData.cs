using System.Globalization;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Learning.MLNet.Tests;

/// <summary>The bundled data set (all 30 features, Result last), read directly: -1 → label 0, 1 → label 1.</summary>
public static class PhishingData
{
    private static readonly Lazy<(FeatureMatrix X, int[] Y)> All = new(Read);

    public static (FeatureMatrix X, int[] Y) Load() => All.Value;

    /// <summary>Every <paramref name="step"/>-th row, from <paramref name="offset"/>.</summary>
    public static (FeatureMatrix X, int[] Y) Sample(int step, int offset = 0)
    {
        var (x, y) = All.Value;
        var rows = Enumerable.Range(0, x.Rows).Where(i => i % step == offset).ToArray();
        return (x.SelectRows(rows), rows.Select(i => y[i]).ToArray());
    }

    /// <summary>The two ML.NET trainers, for theories that cover both.</summary>
    public static TheoryData<MLNetTrainer> Trainers() => new() { MLNetTrainer.FastTree, MLNetTrainer.LightGbm };

    /// <summary>A small, quick configuration of either trainer.</summary>
    public static readonly MLNetOptions Small = new(NEstimators: 40, MaxLeaves: 16, LearningRate: 0.2, MinSamplesLeaf: 5, Seed: 3);

    /// <summary>A model fitted on every other row (the rows returned), with <see cref="Small"/> unless told otherwise.</summary>
    public static (MLNetModel Model, FeatureMatrix Train) Fit(MLNetTrainer trainer, MLNetOptions? options = null)
    {
        var (x, y) = Sample(2);
        return ((MLNetModel)new MLNetLearner(trainer, options ?? Small).Learn(x, y), x);
    }

    private static (FeatureMatrix X, int[] Y) Read()
    {
        var lines = File.ReadAllLines(TestPaths.DataFile).Skip(1).Where(l => l.Length > 0).ToArray();
        var rows = new List<double[]>();
        var labels = new List<int>();
        foreach (var line in lines)
        {
            var cells = line.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            rows.Add(cells[..^1]);
            labels.Add(cells[^1] > 0 ? 1 : 0);
        }

        return (FeatureMatrix.FromRows(rows), [.. labels]);
    }
}
