using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Imputation;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>
/// Cost of explaining verdicts (TreeSHAP) with the default model: the learner and parameters the default `train`
/// search picks (seed 42): gradient boosting, 600 leaf-wise trees of 64 leaves, learning rate 0.05, subsample 0.8.
/// Rows are printed as they are measured (explanations of this model take milliseconds per row).
/// </summary>
public static class ExplainBenchmarks
{
    public static void Run()
    {
        var (x, y) = LoadData();
        var split = TrainTestSplit.Stratified(y, 0.2, 42);
        var trainX = x.SelectRows(split.Train);
        var trainY = split.Train.Select(i => y[i]).ToArray();
        var gbdt = (GradientBoostingModel)new GradientBoostingLearner(
            nEstimators: 600, learningRate: 0.05, maxDepth: 0, maxLeaves: 64, minSamplesLeaf: 2, l2: 1.0, subsample: 0.8, seed: 42).Learn(trainX, trainY);
        IExplainableModel model = gbdt;
        var rows = new List<(string, string, string)>();
        void Add(string what, string measured, string target)
        {
            rows.Add((what, measured, target));
            Console.WriteLine($"{what}: {measured} (target {target})");
        }

        // For scale: the `--mode gbdt` model (300 trees, depth ≤ 6).
        var shallow = (IExplainableModel)new GradientBoostingLearner(nEstimators: 300, learningRate: 0.1, maxDepth: 6, seed: 42).Learn(trainX, trainY);
        var shallowPhi = new double[x.Columns];
        var shallowRow = x.Row(0).ToArray();
        var shallowSingle = MedianSeconds(3, () =>
        {
            for (var i = 0; i < 50; i++)
            {
                shallow.Explain(shallowRow, shallowPhi);
            }
        });
        Add("--mode gbdt model (300 trees, depth ≤ 6): single-record explanation", $"{F(shallowSingle / 50 * 1e6, "0")} µs", "—");

        var unique = gbdt.Trees.SelectMany(t => UniquePerLeaf(t, 0, [])).ToArray();
        Add("default model", $"{gbdt.Trees.Length} trees, {gbdt.Trees.Average(t => t.LeafCount):0.0} leaves, depth mean {gbdt.Trees.Average(t => t.Depth):0.0} / max {gbdt.Trees.Max(t => t.Depth)}, unique features per leaf path mean {unique.Average():0.0} / max {unique.Max()}", "—");

        var phi = new double[x.Columns];
        var row = x.Row(0).ToArray();
        const int calls = 50;
        var single = MedianSeconds(3, () =>
        {
            for (var i = 0; i < calls; i++)
            {
                model.Explain(row, phi);
            }
        });
        Add("single-record explanation (all 30 contributions), 1 core", $"{F(single / calls * 1e6, "0")} µs", "< 200 µs");
        Console.WriteLine($"ns_single_us={F(single / calls * 1e6, "0")}");

        // Paired with XGBoost's pred_contribs on the same 2,000 rows (scripts/bench/explain.sh): every row, no de-duplication.
        var batch = new double[2000 * x.Columns];
        var batchSeconds = MedianSeconds(1, () => Parallel.For(0, 2000, r => model.Explain(x.Row(r), batch.AsSpan(r * x.Columns, x.Columns))));
        Add("first 2,000 rows, every row explained, 2 threads", $"{F(batchSeconds, "0.000")} s", "—");
        Console.WriteLine($"ns_batch2000_s={F(batchSeconds, "0.000")}");
        var score = MedianSeconds(3, () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                model.PredictProbability(row);
            }
        });
        Add("single-record score, same model (for scale)", $"{F(score / 1000 * 1e6, "0.0")} µs", "—");

        // The API's path for the 11,055-row CSV with explain=3: parse, impute, score, explain (copies once), top 3.
        var schema = SchemaLoader.Load("data_schema/schema.yaml");
        var bundle = new ModelBundle(schema.Fingerprint, schema.FeatureNames, KnnImputer.Fit(trainX, 3), gbdt,
            new ModelCard("bench", DateTimeOffset.UtcNow, "gradient_boosting", new Dictionary<string, string>(), "f1", 0, 0, null!, null!, [], "", "", 0, 0, "stratified", 42));
        var predictor = new PhishingPredictor(schema);
        var csv = File.ReadAllText("Network_Data/phisingData.csv");
        var plain = MedianSeconds(3, () => predictor.Score(bundle, () => new StringReader(csv), "csv"));
        Add("11,055-row CSV: score only (first pass)", $"{F(plain, "0.000")} s", "—");
        var clock = Stopwatch.StartNew();
        var summary = predictor.Score(bundle, () => new StringReader(csv), "csv", explainTop: 3);
        var explained = clock.Elapsed.TotalSeconds;
        Add("11,055-row CSV with explain=3 (first pass, 5,785 distinct rows explained, 2 cores)", $"{F(explained, "0.00")} s ({F(explained / x.Rows * 1e6, "0")} µs per row)", "< 2 s on 2 cores");

        var worst = 0.0;
        foreach (var r in Enumerable.Range(0, 300))
        {
            model.Explain(x.Row(r), phi);
            worst = Math.Max(worst, Math.Abs(model.BaseValue + phi.Sum() - model.RawOutput(x.Row(r))));
        }

        Add("max |base + Σ contributions − raw output|, 300 rows", F(worst, "E1"), "< 1e-9");
        Add("explanations in the summary", summary.Explanations!.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), "11,055");
        Table("Explanations (TreeSHAP), Release; machine shared with other jobs: noisy", rows);
    }

    private static IEnumerable<int> UniquePerLeaf(Learning.Trees.FlatTree tree, int node, HashSet<int> seen)
    {
        var n = tree.Nodes[node];
        if (n.IsLeaf)
        {
            return [seen.Count];
        }

        var copy = new HashSet<int>(seen) { n.Feature };
        return UniquePerLeaf(tree, n.Child, copy).Concat(UniquePerLeaf(tree, n.Child + 1, copy)).ToArray();
    }
}
