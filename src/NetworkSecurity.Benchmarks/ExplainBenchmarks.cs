using System.Diagnostics;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Imputation;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>
/// Cost of explaining verdicts (TreeSHAP) for two gradient-boosting models of ours, trained here on the bundled data:
/// 100 leaf-wise trees of 32 leaves (the shape of the default model, ML.NET LightGBM, once its trees are converted to
/// ours) and 600 trees of 64 leaves (the largest of our search grid). Per model: one record, a batch of 2,000 rows
/// (every row explained, 2 threads) and the API's path for the 11,055-row CSV with explain=3. Rows are printed as
/// they are measured. Pass a shape's key (100x32, 600x64, lightgbm, default) to measure that model only.
/// </summary>
public static class ExplainBenchmarks
{
    private sealed record Shape(string Key, string Name, int Trees, int Leaves, double LearningRate, double Subsample);

    private static readonly Shape[] Shapes =
    [
        new("100x32", "100 trees × 32 leaves (the earlier default model's shape)", 100, 32, 0.2, 1.0),
        new("600x64", "600 trees × 64 leaves", 600, 64, 0.05, 0.8),
        new("lightgbm", "ML.NET LightGBM, 100 trees × 32 leaves (the default grid's entry), read into our trees", 100, 32, 0.2, 1.0),
        new("default", "the default model: the default grid's leaf-wise entry, 350 trees × 64 leaves, half the features per tree", 350, 64, 0.08, 0.9),
    ];

    /// <summary>The models <c>explain</c> and <c>explain-table-bits</c> take by name.</summary>
    public static IEnumerable<string> ShapeKeys => Shapes.Select(s => s.Key);

    public static void Run(string? only = null)
    {
        var (x, y) = LoadData();
        var split = TrainTestSplit.Stratified(y, 0.2, 42);
        var trainX = x.SelectRows(split.Train);
        var trainY = split.Train.Select(i => y[i]).ToArray();
        var schema = SchemaLoader.Load("data_schema/schema.yaml");
        var imputer = KnnImputer.Fit(trainX, 3);
        var csv = File.ReadAllText("Network_Data/phisingData.csv");
        var rows = new List<(string, string, string)>();
        foreach (var shape in Shapes.Where(s => only is null || s.Key == only))
        {
            void Add(string what, string measured, string target)
            {
                rows.Add(($"{shape.Key}: {what}", measured, target));
                Console.WriteLine($"{shape.Key}: {what}: {measured} (target {target})");
            }

            if (shape.Key == "lightgbm")
            {
                // The default grid's lightgbm entry, as the default search fits it.
                var options = new MLNetOptions(NEstimators: shape.Trees, MaxLeaves: shape.Leaves, LearningRate: shape.LearningRate, MinSamplesLeaf: 2);
                var lightGbm = (MLNetModel)new MLNetLearner(MLNetTrainer.LightGbm, options).Learn(trainX, trainY);
                Measure(shape, lightGbm, lightGbm.Trees!.Trees, x, schema, imputer, csv, Add);
                continue;
            }

            var gbdt = Fit(shape, trainX, trainY);
            Measure(shape, gbdt, gbdt.Trees, x, schema, imputer, csv, Add);
        }

        Table("Explanations (TreeSHAP), Release; machine shared with other jobs: noisy", rows);
    }

    private static void Measure(Shape shape, IExplainableModel model, FlatTree[] trees, FeatureMatrix x, DataSchema schema, KnnImputer imputer, string csv, Action<string, string, string> add)
    {
        var unique = trees.SelectMany(t => UniquePerLeaf(t, 0, [])).ToArray();
        add("model", $"{shape.Name}: {trees.Length} trees, {trees.Average(t => t.LeafCount):0.0} leaves, depth mean {trees.Average(t => t.Depth):0.0} / max {trees.Max(t => t.Depth)}, unique features per leaf path mean {unique.Average():0.0} / max {unique.Max()}", "—");

        var phi = new double[x.Columns];
        var row = x.Row(0).ToArray();
        var warm = Stopwatch.StartNew();
        model.Explain(row, phi);
        add("first explanation (includes one-time preparation)", $"{F(warm.Elapsed.TotalMilliseconds, "0.0")} ms", "—");

        // Different rows in turn, so no per-row cache could help. Warmed up for a second first: the JIT's tiers (tier 0,
        // then optimised code some 100 ms after 30 calls) would otherwise be part of what is measured.
        const int calls = 200;
        WarmUp(() => model.Explain(x.Row(7), phi));
        WarmUp(() => TreeShap.AddRecursive(trees[0], x.Row(7), phi));
        WarmUp(() => TreeShap.Add(trees[0], x.Row(7), phi));
        WarmUp(() => model.ExplainRows(x.SelectRows([1, 2, 3]), new double[3 * x.Columns]));
        var single = MedianSeconds(3, () =>
        {
            for (var i = 0; i < calls; i++)
            {
                model.Explain(x.Row(i * 37 % x.Rows), phi);
            }
        });
        var singleCpu = MedianCpuSeconds(3, () =>
        {
            for (var i = 0; i < calls; i++)
            {
                model.Explain(x.Row(i * 37 % x.Rows), phi);
            }
        });
        add("single-record explanation (all 30 contributions), 1 core", $"{F(single / calls * 1e6, "0.0")} µs (CPU time {F(singleCpu / calls * 1e6, "0.0")} µs)", "< 200 µs (default model)");
        Console.WriteLine($"ns_{shape.Key}_single_us={F(single / calls * 1e6, "0.0")}");

        // Paired on the same rows, for a ratio that the machine's load affects less: the recursive algorithm tree by tree.
        const int recursiveCalls = 20;
        var recursive = MedianCpuSeconds(3, () =>
        {
            for (var i = 0; i < recursiveCalls; i++)
            {
                phi.AsSpan().Clear();
                foreach (var tree in trees)
                {
                    TreeShap.AddRecursive(tree, x.Row(i * 37 % x.Rows), phi);
                }
            }
        });
        var treeByTree = MedianCpuSeconds(3, () =>
        {
            for (var i = 0; i < calls; i++)
            {
                phi.AsSpan().Clear();
                foreach (var tree in trees)
                {
                    TreeShap.Add(tree, x.Row(i * 37 % x.Rows), phi);
                }
            }
        });
        add("same rows, TreeShap.Add tree by tree (each tree prepared on its own), CPU time", $"{F(treeByTree / calls * 1e6, "0.0")} µs", "—");
        add("same rows, recursive TreeSHAP tree by tree (before), CPU time", $"{F(recursive / recursiveCalls * 1e6, "0.0")} µs ({F(recursive / recursiveCalls / (singleCpu / calls), "0.0")}× the prepared one)", "—");

        // Paired with XGBoost's pred_contribs on the same 2,000 rows (scripts/bench/explain.sh): every row, no de-duplication.
        const int batchRows = 2000;
        var batch = new double[batchRows * x.Columns];
        var first = x.SelectRows(Enumerable.Range(0, batchRows).ToArray());
        var batchSeconds = MedianSeconds(3, () => model.ExplainRows(first, batch));
        add("first 2,000 rows, every row explained (ExplainRows), 2 threads", $"{F(batchSeconds, "0.000")} s ({F(batchSeconds / batchRows * 1e6, "0.0")} µs per record)", "—");
        var rowByRow = MedianSeconds(1, () => Parallel.For(0, batchRows, r => model.Explain(x.Row(r), batch.AsSpan(r * x.Columns, x.Columns))));
        add("same rows, Explain row by row, 2 threads", $"{F(rowByRow, "0.000")} s ({F(rowByRow / batchRows * 1e6, "0.0")} µs per record)", "—");
        Console.WriteLine($"ns_{shape.Key}_batch2000_s={F(batchSeconds, "0.000")}");
        var score = MedianSeconds(3, () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                model.PredictProbability(row);
            }
        });
        add("single-record score, same model (for scale)", $"{F(score / 1000 * 1e6, "0.0")} µs", "—");

        // The API's path for the 11,055-row CSV with explain=3: parse, impute, score, explain (copies once), top 3.
        var bundle = new ModelBundle(schema.Fingerprint, schema.FeatureNames, imputer, model,
            new ModelCard("bench", DateTimeOffset.UtcNow, "gradient_boosting", new Dictionary<string, string>(), "f1", 0, 0, null!, null!, [], "", "", 0, 0, "stratified", 42));
        var predictor = new PhishingPredictor(schema);
        var plain = MedianSeconds(3, () => predictor.Score(bundle, () => new StringReader(csv), "csv"));
        add("11,055-row CSV: score only (first pass)", $"{F(plain, "0.000")} s", "—");
        PredictionSummary? summary = null;
        var explained = MedianSeconds(3, () => summary = predictor.Score(bundle, () => new StringReader(csv), "csv", explainTop: 3));
        add("11,055-row CSV with explain=3 (first pass, 2 cores)", $"{F(explained, "0.000")} s ({F(explained / x.Rows * 1e6, "0.0")} µs per row)", "< 2 s on 2 cores (default model)");
        Console.WriteLine($"ns_{shape.Key}_csv_explain3_s={F(explained, "0.000")}");

        var worst = 0.0;
        foreach (var r in Enumerable.Range(0, 300))
        {
            model.Explain(x.Row(r), phi);
            worst = Math.Max(worst, Math.Abs(model.BaseValue + phi.Sum() - model.RawOutput(x.Row(r))));
        }

        add("max |base + Σ contributions − raw output|, 300 rows", F(worst, "E1"), "< 1e-9");
        add("explanations in the summary", summary!.Explanations!.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), "11,055");
    }

    private static void WarmUp(Action action)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 1)
        {
            action();
        }
    }

    /// <summary>The prepared TreeSHAP's cost by the longest path that gets a table (0: every leaf computes).</summary>
    public static void TableBits(string only)
    {
        var (x, y) = LoadData();
        var split = TrainTestSplit.Stratified(y, 0.2, 42);
        var trainX = x.SelectRows(split.Train);
        var trainY = split.Train.Select(i => y[i]).ToArray();
        var shape = Shapes.Single(s => s.Key == only);
        var gbdt = Fit(shape, trainX, trainY);
        var phi = new double[x.Columns];
        foreach (var (bits, budget) in new[] { (0, 0L), (4, long.MaxValue), (6, long.MaxValue), (8, long.MaxValue), (10, long.MaxValue), (12, long.MaxValue), (12, 1L << 23), (TreeShapEnsemble.DefaultMaxTableBits, TreeShapEnsemble.DefaultTableBudget) })
        {
            var clock = Stopwatch.StartNew();
            var ensemble = new TreeShapEnsemble(gbdt.Trees, x.Columns, 1.0, bits, budget);
            var prepared = clock.Elapsed.TotalMilliseconds;
            WarmUp(() => ensemble.Add(x.Row(7), phi));
            const int calls = 200;
            var cpu = MedianCpuSeconds(5, () =>
            {
                for (var i = 0; i < calls; i++)
                {
                    ensemble.Add(x.Row(i * 37 % x.Rows), phi);
                }
            });
            var rows = x.SelectRows(Enumerable.Range(0, 512).ToArray());
            var batch = new double[rows.Rows * x.Columns];
            var batchCpu = MedianCpuSeconds(3, () => ensemble.AddRows(rows.Values, rows.Rows, rows.Columns, batch));
            Console.WriteLine($"{only} table bits ≤ {bits}, budget {(budget == long.MaxValue ? "none" : $"{budget * 8 >> 20} MB")}: {F(cpu / calls * 1e6, "0.0")} µs CPU per record, {F(batchCpu / rows.Rows * 1e6, "0.0")} in a batch (1 thread); {ensemble.TabledLeafCount}/{ensemble.LeafCount} leaves tabled, {ensemble.TableSize * 8 / 1024} KB, prepared in {F(prepared, "0")} ms");
        }
    }

    // Our boosted model of that shape; "default" is the default grid's leaf-wise entry (per-tree feature sampling).
    private static GradientBoostingModel Fit(Shape shape, FeatureMatrix trainX, int[] trainY) => (GradientBoostingModel)(shape.Key == "default"
        ? new GradientBoostingLearner(nEstimators: shape.Trees, learningRate: shape.LearningRate, maxDepth: 0, maxLeaves: shape.Leaves, l2: 0.5,
            subsample: shape.Subsample, colsampleByTree: 0.5, seed: 42)
        : new GradientBoostingLearner(nEstimators: shape.Trees, learningRate: shape.LearningRate, maxDepth: 0, maxLeaves: shape.Leaves, minSamplesLeaf: 2, l2: 1.0,
            subsample: shape.Subsample, seed: 42)).Learn(trainX, trainY);

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
