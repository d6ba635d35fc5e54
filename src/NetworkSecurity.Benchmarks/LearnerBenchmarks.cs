using System.Diagnostics;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Models;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>Fit and scoring speed of the learners on the real data (seed 42, stratified 80/20: 8,844 training rows).</summary>
public static class LearnerBenchmarks
{
    public static void Run()
    {
        var (x, y) = LoadData();
        var split = TrainTestSplit.Stratified(y, 0.2, 42);
        var trainX = x.SelectRows(split.Train);
        var trainY = split.Train.Select(i => y[i]).ToArray();
        var testX = x.SelectRows(split.Test);
        var testY = split.Test.Select(i => y[i]).ToArray();
        var rows = new List<(string, string, string)>();

        IClassifierModel gbdt = null!;
        var gbdtFit = MedianSeconds(5, () => gbdt = new GradientBoostingLearner(nEstimators: 300, maxDepth: 6, learningRate: 0.1, seed: 42).Learn(trainX, trainY));
        rows.Add(("GBDT 300 trees depth 6, fit on 8,844 rows", $"{F(gbdtFit, "0.000")} s", "≤ 0.5 s (XGBoost 0.22 s)"));
        rows.Add(("GBDT 300×6 test F1 / AUC", $"{F(F1(gbdt, testX, testY), "0.0000")} / {F(Auc(gbdt, testX, testY), "0.0000")}", "—"));

        // Batch scoring: 221,100 rows (the data set 20 times), as the reference measured XGBoost.
        var big = Repeat(x, 20);
        var output = new double[big.Rows];
        var batch = MedianSeconds(5, () => gbdt.PredictProbabilities(big, output));
        rows.Add(("GBDT 300×6 batch scoring (221k rows, 2 cores)", $"{F(big.Rows / batch, "N0")} rows/s", "≥ 1,000,000 rows/s (XGBoost 340k)"));

        var row = x.Row(0).ToArray();
        const int calls = 200_000;
        double sink = 0;
        var single = MedianSeconds(3, () =>
        {
            for (var i = 0; i < calls; i++)
            {
                sink += gbdt.PredictProbability(row);
            }
        });
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            sink += gbdt.PredictProbability(row);
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000.0;
        rows.Add(("GBDT 300×6 single-row score", $"{F(single / calls * 1e6, "0.00")} µs, {F(allocated, "0")} bytes allocated", "< 20 µs (XGBoost from Python 790 µs)"));

        // The default grid's leaf-wise entry (what the service usually serves): 350 trees of 64 leaves.
        var leafwise = new GradientBoostingLearner(nEstimators: 350, maxDepth: 0, maxLeaves: 64, learningRate: 0.08, l2: 0.5, subsample: 0.9, colsampleByTree: 0.5, seed: 42).Learn(trainX, trainY);
        var leafwiseSingle = MedianSeconds(5, () =>
        {
            for (var i = 0; i < calls / 10; i++)
            {
                sink += leafwise.PredictProbability(row);
            }
        });
        rows.Add(("GBDT 350×64 leaves (default grid entry) single-row score", $"{F(leafwiseSingle / (calls / 10) * 1e6, "0.00")} µs", "ML.NET app's FastTree 300×64: see api-vs-mlnet.sh"));

        IClassifierModel forest = null!;
        var rfFit = MedianSeconds(3, () => forest = new RandomForestLearner(nEstimators: 128, seed: 42).Learn(trainX, trainY));
        rows.Add(("Random forest 128 trees, fit", $"{F(rfFit, "0.000")} s", "scikit-learn RF part of the seed grid: 4 s"));
        var testOut = new double[testX.Rows];
        var rfScore = MedianSeconds(5, () => forest.PredictProbabilities(testX, testOut));
        rows.Add(("Random forest 128 trees, predict 2,211 rows", $"{F(testX.Rows / rfScore, "N0")} rows/s", "scikit-learn 58k rows/s"));

        foreach (var (name, learner) in new (string, ILearner)[]
        {
            ("Decision tree (gini)", new DecisionTreeLearner()),
            ("AdaBoost 256 stumps", new AdaBoostLearner(nEstimators: 256, learningRate: 0.1)),
            ("Logistic regression", new LogisticRegressionLearner()),
        })
        {
            IClassifierModel model = null!;
            var fit = MedianSeconds(3, () => model = learner.Learn(trainX, trainY));
            rows.Add(($"{name}, fit / test F1", $"{F(fit, "0.000")} s / {F(F1(model, testX, testY), "0.0000")}", "—"));
        }

        // Peak memory while training on a 10× copy (110,550 rows).
        var tenX = Repeat(x, 10);
        var tenY = Enumerable.Range(0, 10).SelectMany(_ => y).ToArray();
        GC.Collect();
        var clock = Stopwatch.StartNew();
        new GradientBoostingLearner(nEstimators: 300, maxDepth: 6, seed: 42).Learn(tenX, tenY);
        var bigFit = clock.Elapsed.TotalSeconds;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        rows.Add(("GBDT 300×6 on a 10× copy (110,550 rows): fit, process peak memory", $"{F(bigFit, "0.00")} s, {F(process.PeakWorkingSet64 / 1048576.0, "N0")} MB", "< 1 GB"));

        Table("Learners (Release, 2 cores, median of repeated runs)", rows);
        GC.KeepAlive(sink);
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

    private static double F1(IClassifierModel model, FeatureMatrix x, int[] y) => Metrics(model, x, y).F1;

    private static double Auc(IClassifierModel model, FeatureMatrix x, int[] y) => Metrics(model, x, y).RocAuc;

    private static BinaryClassificationMetrics Metrics(IClassifierModel model, FeatureMatrix x, int[] y)
    {
        var p = new double[x.Rows];
        model.PredictProbabilities(x, p);
        return BinaryClassificationMetrics.Compute(y, p, 1);
    }
}
