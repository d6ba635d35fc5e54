using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Models;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>
/// The three GBDTs side by side in one run on the same data (seed 42, stratified 80/20: 8,844 training rows), at a
/// comparable size: 300 trees of 64 leaves, learning rate 0.1, at least 2 rows per leaf, every core. Fit time, test
/// F1/AUC, batch scoring rows/s, single-row latency and allocations.
/// </summary>
public static class EngineBenchmarks
{
    /// <summary>The engines at the comparable size; ML.NET with <paramref name="threads"/> threads (0 = every core).</summary>
    public static IReadOnlyList<(string Engine, Func<int, ILearner> Create)> Engines(int threads) =>
    [
        ("ours (GBDT, 64 leaves)", seed => new GradientBoostingLearner(nEstimators: 300, maxDepth: 0, maxLeaves: 64, learningRate: 0.1, minSamplesLeaf: 2, l2: 0, seed: seed)),
        ("ours (GBDT, depth 6)", seed => new GradientBoostingLearner(nEstimators: 300, maxDepth: 6, learningRate: 0.1, minSamplesLeaf: 2, l2: 0, seed: seed)),
        ($"ML.NET FastTree ({Threads(threads)})", seed => new MLNetLearner(MLNetTrainer.FastTree, new MLNetOptions(NEstimators: 300, MaxLeaves: 64, LearningRate: 0.1, MinSamplesLeaf: 2, Threads: threads, Seed: seed))),
        ($"ML.NET LightGBM ({Threads(threads)})", seed => new MLNetLearner(MLNetTrainer.LightGbm, new MLNetOptions(NEstimators: 300, MaxLeaves: 64, LearningRate: 0.1, MinSamplesLeaf: 2, L2: 0, Threads: threads, Seed: seed))),
    ];

    private static string Threads(int threads) => threads == 0 ? "all cores" : threads == 1 ? "1 thread" : $"{threads} threads";

    public static void Run()
    {
        var (x, y) = LoadData();
        var split = TrainTestSplit.Stratified(y, 0.2, 42);
        var trainX = x.SelectRows(split.Train);
        var trainY = split.Train.Select(i => y[i]).ToArray();
        var testX = x.SelectRows(split.Test);
        var testY = split.Test.Select(i => y[i]).ToArray();
        var big = Repeat(x, 20); // 221,100 rows
        var output = new double[big.Rows];
        var row = x.Row(0).ToArray();

        Console.WriteLine();
        Console.WriteLine("### Three GBDTs side by side (300 trees, 64 leaves, learning rate 0.1; Release, 2 cores, median of repeated runs)");
        Console.WriteLine();
        Console.WriteLine("| engine | fit on 8,844 rows | test F1 / AUC | batch scoring, 221k rows | single-row score | allocated per single-row call |");
        Console.WriteLine("|---|---|---|---|---|---|");
        // ML.NET at 1 thread too: LightGBM's OpenMP threads spin, which costs dearly on a busy machine.
        foreach (var (engine, create) in Engines(threads: 0).Concat(Engines(threads: 1).Skip(2)))
        {
            IClassifierModel model = null!;
            var fit = MedianSeconds(2, () => model = create(42).Learn(trainX, trainY));
            var metrics = Metrics(model, testX, testY);
            var batch = MedianSeconds(3, () => model.PredictProbabilities(big, output));
            var calls = engine.StartsWith("ours", StringComparison.Ordinal) ? 200_000 : 20_000;
            double sink = 0;
            var single = MedianSeconds(3, () =>
            {
                for (var i = 0; i < calls; i++)
                {
                    sink += model.PredictProbability(row);
                }
            });
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10_000; i++)
            {
                sink += model.PredictProbability(row);
            }

            var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000.0;
            GC.KeepAlive(sink);
            Console.WriteLine($"| {engine} | {F(fit, "0.000")} s | {F(metrics.F1, "0.0000")} / {F(metrics.RocAuc, "0.0000")} | {F(big.Rows / batch, "N0")} rows/s | {F(single / calls * 1e6, "0.00")} µs | {F(allocated, "0")} B |");
        }
    }

    /// <summary>
    /// Accuracy per engine over seeds and both split kinds, each engine at the fixed comparable configuration on the
    /// same splits: mean test F1 (legitimate), ROC AUC and Brier score.
    /// </summary>
    public static void Accuracy(int[] seeds)
    {
        var (x, y) = LoadData();
        var groups = NetworkSecurity.Pipeline.Data.DuplicateAnalysis.Analyze(x, y).GroupIds;
        Console.WriteLine();
        Console.WriteLine($"### Test accuracy per engine, mean over seeds {string.Join(",", seeds)} (80/20; 300 trees, 64 leaves or depth 6, learning rate 0.1, >= 2 rows per leaf)");
        Console.WriteLine();
        // One row per engine, both split kinds side by side, as the README's table.
        Console.WriteLine("| engine | stratified F1 / AUC / Brier | grouped F1 / AUC / Brier |");
        Console.WriteLine("|---|---|---|");
        foreach (var (engine, create) in Engines(threads: 1))
        {
            var cells = new[] { false, true }.Select(grouped =>
            {
                var (f1, auc, brier) = (new List<double>(), new List<double>(), new List<double>());
                foreach (var seed in seeds)
                {
                    var split = grouped ? TrainTestSplit.StratifiedGrouped(y, groups, 0.2, seed) : TrainTestSplit.Stratified(y, 0.2, seed);
                    var model = create(seed).Learn(x.SelectRows(split.Train), split.Train.Select(i => y[i]).ToArray());
                    var testX = x.SelectRows(split.Test);
                    var testY = split.Test.Select(i => y[i]).ToArray();
                    var p = new double[testX.Rows];
                    model.PredictProbabilities(testX, p);
                    var m = BinaryClassificationMetrics.Compute(testY, p, 1);
                    f1.Add(m.F1);
                    auc.Add(m.RocAuc);
                    brier.Add(p.Select((v, i) => (v - testY[i]) * (v - testY[i])).Average());
                }

                return $"{F(f1.Average(), "0.0000")} / {F(auc.Average(), "0.0000")} / {F(brier.Average(), "0.0000")}";
            }).ToArray();
            Console.WriteLine($"| {engine} | {cells[0]} | {cells[1]} |");
        }
    }

    private static BinaryClassificationMetrics Metrics(IClassifierModel model, FeatureMatrix x, int[] y)
    {
        var p = new double[x.Rows];
        model.PredictProbabilities(x, p);
        return BinaryClassificationMetrics.Compute(y, p, 1);
    }

    private static FeatureMatrix Repeat(FeatureMatrix x, int times)
    {
        var values = new double[x.Values.Length * times];
        for (var t = 0; t < times; t++)
        {
            x.Values.CopyTo(values, t * x.Values.Length);
        }

        return new FeatureMatrix(values, x.Rows * times, x.Columns);
    }
}
