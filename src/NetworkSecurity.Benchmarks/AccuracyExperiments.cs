using System.Diagnostics;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Learning.Trees;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>
/// In-process accuracy experiments for choosing grids and defaults on tuning seeds (never the reported 0–4):
/// <c>accuracy stratified|grouped 100-119 CONFIG...</c>, where a CONFIG is <c>learner:key=value,key=value</c>
/// (one fit on the training rows; our learners and ML.NET's <c>fasttree</c>/<c>lightgbm</c>), <c>avg:i+j[+k]</c>
/// (mean probability of earlier configs by index), <c>thr:i:t</c> (config i with its decision threshold moved to t),
/// <c>zero:CONFIG</c> (CONFIG with an indicator of the middle value of each three-valued feature added),
/// <c>cal:HOW:CONFIG</c> (CONFIG calibrated on its out-of-fold probabilities, see the cal branch), <c>memo:i:a</c>
/// (config i blended with the label vote of the test row's exact copies in training), <c>route:i:j</c> (config i for
/// test rows seen in training, j for the others), <c>dedup:CONFIG</c> (CONFIG on distinct rows), <c>knn:k</c>
/// (Hamming neighbours' label share), <c>wavg:i:j:w</c> (weighted mean of two configs), or
/// <c>grid:path.yaml</c> (the pipeline's own cross-validated search). Prints mean test F1 (legitimate), Brier and
/// paired wins against the first CONFIG on the same 80/20 splits as <c>evaluate</c>, and per config its mean errors on
/// test rows whose feature vector is in the training rows (seen) and on the others. With WRITE_SPLITS=DIR set, each
/// seed's rows and the first CONFIG's probabilities are written as <c>evaluate --write-splits</c> does, so
/// scripts/bench/peers.py can add the peers; <c>peer:xgboost</c> (or <c>peer:rf500</c>) then reads the peer's
/// probabilities that peers.py left beside each split (under WRITE_SPLITS, SPLITS or Artifacts/accuracy).
/// </summary>
public static class AccuracyExperiments
{
    public static int Run(string[] args)
    {
        if (args.Length < 3 || args[0] is not ("stratified" or "grouped"))
        {
            Console.Error.WriteLine("Usage: accuracy stratified|grouped SEEDS CONFIG... (see AccuracyExperiments.cs)");
            return 2;
        }

        var grouped = args[0] == "grouped";
        var seeds = Bench.ParseSeeds(args[1]);
        var configs = args[2..];
        var schema = SchemaLoader.Load("data_schema/schema.yaml");
        var data = DatasetParser.Parse(CsvTableReader.ReadFile("Network_Data/phisingData.csv"), schema, true, false).Valid;
        var (x, y) = (data.Features, data.Labels);
        var writeSplits = Environment.GetEnvironmentVariable("WRITE_SPLITS") is { Length: > 0 } w ? w : null;
        var splitsRoot = writeSplits ?? Environment.GetEnvironmentVariable("SPLITS") ?? Path.Combine("Artifacts", "accuracy");
        var groups = DuplicateAnalysis.Analyze(x, y).GroupIds;
        var f1 = configs.Select(_ => new List<double>()).ToArray();
        var brier = configs.Select(_ => new List<double>()).ToArray();
        var seconds = new double[configs.Length];
        var seenErrors = new double[configs.Length];
        var unseenErrors = new double[configs.Length];
        foreach (var seed in seeds)
        {
            var split = grouped ? TrainTestSplit.StratifiedGrouped(y, groups, 0.2, seed) : TrainTestSplit.Stratified(y, 0.2, seed);
            var trainX = x.SelectRows(split.Train);
            var trainY = split.Train.Select(i => y[i]).ToArray();
            var testX = x.SelectRows(split.Test);
            var testY = split.Test.Select(i => y[i]).ToArray();
            var binned = BinnedDataset.Create(trainX);
            var all = Enumerable.Range(0, trainX.Rows).ToArray();
            var probabilities = new double[configs.Length][];
            var testSeen = SeenInTraining(trainX, testX);
            for (var c = 0; c < configs.Length; c++)
            {
                var clock = Stopwatch.StartNew();
                var folder = Path.Combine(splitsRoot, args[0], $"seed{seed}");
                probabilities[c] = configs[c].StartsWith("peer:", StringComparison.Ordinal)
                    ? File.ReadLines(Path.Combine(folder, $"{configs[c][5..]}.csv")).Skip(1).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
                    : Predict(configs[c], probabilities, trainX, trainY, binned, all, testX, seed, grouped);
                if (c == 0 && writeSplits is not null)
                {
                    SplitWriter.Write(folder, schema, data.Select(split.Train), data.Select(split.Test), probabilities[c], new PipelineOptions().ImputerNeighbors); // no imputation here: the product's default
                }

                seconds[c] += clock.Elapsed.TotalSeconds;
                f1[c].Add(BinaryClassificationMetrics.Compute(testY, probabilities[c], 1).F1);
                brier[c].Add(BrierScore.Compute(testY, probabilities[c]));
                for (var i = 0; i < testY.Length; i++)
                {
                    if (DecisionRule.PredictLabel(probabilities[c][i]) != testY[i])
                    {
                        (testSeen[i] ? ref seenErrors[c] : ref unseenErrors[c]) += 1.0 / seeds.Length;
                    }
                }
            }

            Console.Error.Write($"seed {seed} ");
        }

        Console.Error.WriteLine();
        Console.WriteLine($"| # | config ({args[0]}, seeds {args[1]}) | mean F1 | sd | mean Brier | F1 wins vs #0 | Brier wins vs #0 | errors seen / unseen | s/seed |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        for (var c = 0; c < configs.Length; c++)
        {
            var mean = f1[c].Average();
            var sd = Math.Sqrt(f1[c].Sum(v => (v - mean) * (v - mean)) / Math.Max(1, f1[c].Count - 1));
            var wins = f1[c].Zip(f1[0]).Count(p => p.First > p.Second);
            var losses = f1[c].Zip(f1[0]).Count(p => p.First < p.Second);
            var brierWins = brier[c].Zip(brier[0]).Count(p => p.First < p.Second);
            Console.WriteLine($"| {c} | {configs[c]} | {F(mean, "0.0000")} | {F(sd, "0.0000")} | {F(brier[c].Average(), "0.00000")} | {wins}-{losses} | {brierWins} | {F(seenErrors[c], "0.0")} / {F(unseenErrors[c], "0.0")} | {F(seconds[c] / seeds.Length, "0.00")} |");
        }

        return 0;
    }

    private static double[] Predict(string config, double[][] earlier, FeatureMatrix trainX, int[] trainY, BinnedDataset binned, int[] all, FeatureMatrix testX, int seed, bool grouped)
    {
        var colon = config.IndexOf(':', StringComparison.Ordinal);
        var kind = config[..colon];
        var rest = config[(colon + 1)..];
        if (kind == "memo")
        {
            // memo:i:a — blend config i with the label frequency of the test row's exact copies in training:
            // p = (positives + a·p_i) / (copies + a).
            var parts = rest.Split(':');
            var basis = earlier[int.Parse(parts[0])];
            var strength = double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            var seen = new Dictionary<string, (int N, int Pos)>();
            for (var r = 0; r < trainX.Rows; r++)
            {
                var key = RowKey(trainX, r);
                var (n, pos) = seen.GetValueOrDefault(key);
                seen[key] = (n + 1, pos + trainY[r]);
            }

            var blended = new double[testX.Rows];
            for (var i = 0; i < blended.Length; i++)
            {
                var (n, pos) = seen.GetValueOrDefault(RowKey(testX, i));
                blended[i] = (pos + (strength * basis[i])) / (n + strength);
            }

            return blended;
        }

        if (kind == "route")
        {
            // route:i:j — config i for test rows whose feature vector is in the training rows, config j for the rest.
            var parts = rest.Split(':');
            var (onSeen, onUnseen) = (earlier[int.Parse(parts[0])], earlier[int.Parse(parts[1])]);
            var seen = SeenInTraining(trainX, testX);
            return [.. Enumerable.Range(0, testX.Rows).Select(i => seen[i] ? onSeen[i] : onUnseen[i])];
        }

        if (kind == "dedup")
        {
            // dedup:CONFIG — CONFIG trained on one row per distinct (feature vector, label) pair.
            var keep = new HashSet<string>();
            var rows = Enumerable.Range(0, trainX.Rows).Where(r => keep.Add(RowKey(trainX, r) + "|" + trainY[r])).ToArray();
            var dx = trainX.SelectRows(rows);
            return Predict(rest, earlier, dx, [.. rows.Select(r => trainY[r])], BinnedDataset.Create(dx), Enumerable.Range(0, dx.Rows).ToArray(), testX, seed, grouped);
        }

        if (kind == "knn")
        {
            // knn:k — share of legitimate labels among the training rows at the k smallest Hamming distances (every row
            // at the k-th distance counts), with the row's exact copies left out: a view of the neighbourhood only.
            var k = int.Parse(rest);
            var result = new double[testX.Rows];
            var counts = new int[trainX.Columns + 1];
            var positives = new int[trainX.Columns + 1];
            for (var i = 0; i < testX.Rows; i++)
            {
                Array.Clear(counts);
                Array.Clear(positives);
                var row = testX.Row(i);
                for (var r = 0; r < trainX.Rows; r++)
                {
                    var other = trainX.Row(r);
                    var d = 0;
                    for (var f = 0; f < row.Length; f++)
                    {
                        d += row[f] != other[f] ? 1 : 0;
                    }

                    counts[d]++;
                    positives[d] += trainY[r];
                }

                int n = 0, pos = 0;
                for (var d = 1; d < counts.Length && n < k; d++)
                {
                    n += counts[d];
                    pos += positives[d];
                }

                result[i] = n == 0 ? 0.5 : (double)pos / n;
            }

            return result;
        }

        if (kind == "wavg")
        {
            // wavg:i:j:w — (1 − w)·config i + w·config j.
            var parts = rest.Split(':');
            var (a, b) = (earlier[int.Parse(parts[0])], earlier[int.Parse(parts[1])]);
            var w = double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            return [.. a.Zip(b, (u, v) => ((1 - w) * u) + (w * v))];
        }

        if (kind == "thr")
        {
            // thr:i:t — config i with its decision threshold moved to t (a monotone map that sends t to 0.5).
            var parts = rest.Split(':');
            var basis = earlier[int.Parse(parts[0])];
            var t = double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            return [.. basis.Select(p => p < t ? p * 0.5 / t : 0.5 + ((p - t) * 0.5 / (1 - t)))];
        }

        if (kind == "zero")
        {
            // zero:learner:params — the learner on the features plus, per three-valued feature, an indicator of its
            // middle value (a split can then isolate 0 from both -1 and 1 at once).
            var three = Enumerable.Range(0, trainX.Columns).Where(c => Enumerable.Range(0, trainX.Rows).Select(r => trainX[r, c]).Distinct().Count() == 3).ToArray();
            FeatureMatrix Augment(FeatureMatrix m)
            {
                var width = m.Columns + three.Length;
                var values = new double[m.Rows * width];
                for (var r = 0; r < m.Rows; r++)
                {
                    m.Row(r).CopyTo(values.AsSpan(r * width));
                    for (var k = 0; k < three.Length; k++)
                    {
                        values[(r * width) + m.Columns + k] = m[r, three[k]] == 0 ? 1 : 0;
                    }
                }

                return new FeatureMatrix(values, m.Rows, width);
            }

            var ax = Augment(trainX);
            return Predict(rest, earlier, ax, trainY, BinnedDataset.Create(ax), all, Augment(testX), seed, grouped);
        }

        if (kind == "cal")
        {
            // cal:platt|gplatt|cvthr|cvacc|scvacc|seen|unseen:learner:params — the learner refitted on all training rows,
            // its probabilities mapped by what its 5-fold out-of-fold probabilities on those rows say: platt, a·logit + b
            // (folds grouped by feature vector when the split is; gplatt: always grouped); cvthr, the threshold that
            // maximises out-of-fold F1, mapped to 0.5; cvacc/scvacc, the one with the most correct verdicts, as a log-odds
            // shift; seen/unseen, see SeenCalibrated.
            var how = rest[..rest.IndexOf(':', StringComparison.Ordinal)];
            var inner = rest[(how.Length + 1)..];
            if (how is "seen" or "unseen")
            {
                return SeenCalibrated(how == "seen", inner, earlier, trainX, trainY, binned, all, testX, seed, grouped);
            }

            var groupIds = (grouped && how != "scvacc") || how == "gplatt" ? DuplicateAnalysis.Analyze(trainX, trainY).GroupIds : [];
            var oof = OutOfFold(inner, earlier, trainX, trainY, CrossValidation.StratifiedFolds(trainY, groupIds, 5, seed), seed, grouped);
            var test = Predict(inner, earlier, trainX, trainY, binned, all, testX, seed, grouped);
            if (how is "cvacc" or "scvacc")
            {
                // The threshold on P(legitimate) in [0.40, 0.60] with the most correct out-of-fold verdicts (the one
                // nearest 0.5 among equals), applied as a shift of the log-odds that sends it to 0.5 (scvacc: folds
                // always stratified, as a default run on any training file uses).
                var best = (Correct: -1, T: 0.5);
                for (var step = 0; step <= 40; step++)
                {
                    var t = 0.40 + (step * 0.005);
                    var correct = oof.Zip(trainY).Count(o => (o.First > t ? 1 : 0) == o.Second);
                    if (correct > best.Correct || (correct == best.Correct && Math.Abs(t - 0.5) < Math.Abs(best.T - 0.5)))
                    {
                        best = (correct, t);
                    }
                }

                Console.Error.Write($"[t {best.T:0.000}] ");
                var shift = -Logit(best.T);
                return [.. test.Select(v => GradientBoostingModel.Sigmoid(Logit(v) + shift))];
            }

            if (how == "cvthr")
            {
                static double[] Moved(IEnumerable<double> p, double t) => [.. p.Select(v => v < t ? v * 0.5 / t : 0.5 + ((v - t) * 0.5 / (1 - t)))];
                var best = (F1: -1.0, T: 0.5);
                for (var step = 0; step <= 80; step++)
                {
                    var t = 0.30 + (step * 0.005);
                    var f = BinaryClassificationMetrics.Compute(trainY, Moved(oof, t), 1).F1;
                    if (f > best.F1 + 1e-12 || (Math.Abs(f - best.F1) <= 1e-12 && Math.Abs(t - 0.5) < Math.Abs(best.T - 0.5)))
                    {
                        best = (f, t);
                    }
                }

                Console.Error.Write($"[t {best.T:0.000}] ");
                return Moved(test, best.T);
            }

            var (a, b) = Platt(oof, trainY);
            Console.Error.Write($"[a {a:0.000} b {b:0.000}] ");
            return [.. test.Select(v => GradientBoostingModel.Sigmoid((a * Logit(v)) + b))];
        }

        if (kind == "avg")
        {
            var members = rest.Split('+').Select(int.Parse).ToArray();
            var result = new double[testX.Rows];
            foreach (var m in members)
            {
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] += earlier[m][i] / members.Length;
                }
            }

            return result;
        }

        IClassifierModel model;
        if (kind == "grid")
        {
            var trainGroups = grouped ? DuplicateAnalysis.Analyze(trainX, trainY).GroupIds : null;
            var scoring = Environment.GetEnvironmentVariable("SCORING") is { Length: > 0 } sc ? sc : new TrainingOptions().Scoring;
            var result = new GridSearchTrainer(rest, 5, scoring, seed).Train(trainX, trainY, trainGroups, null, CancellationToken.None);
            Console.Error.Write($"[{result.Learner} {string.Join(",", result.Parameters.Select(p => $"{p.Key}={p.Value}"))} cv {result.CvScore:0.0000}] ");
            model = result.Model;
        }
        else
        {
            var parameters = rest.Length == 0
                ? new Dictionary<string, string>()
                : rest.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
            // seed=k (experiments only): the learner's seed is the split's seed plus k, for seed-averaging trials.
            var learnerSeed = seed + (parameters.Remove("seed", out var offset) ? int.Parse(offset) : 0);
            var learner = GridSearchTrainer.Catalog(learnerSeed)[kind].Create(parameters);
            model = learner is IBinnedLearner fast ? fast.Learn(binned, trainY, all) : learner.Learn(trainX, trainY);
        }

        var probabilities = new double[testX.Rows];
        model.PredictProbabilities(testX, probabilities);
        return probabilities;
    }

    // The row's feature vector as text: equal for exact copies, across matrices.
    private static string RowKey(FeatureMatrix m, int r) => string.Join(",", m.Row(r).ToArray());

    // Per test row: whether an exact copy of its feature vector is among the training rows.
    private static bool[] SeenInTraining(FeatureMatrix trainX, FeatureMatrix testX)
    {
        var trainKeys = Enumerable.Range(0, trainX.Rows).Select(r => RowKey(trainX, r)).ToHashSet();
        return [.. Enumerable.Range(0, testX.Rows).Select(i => trainKeys.Contains(RowKey(testX, i)))];
    }

    private static double[] OutOfFold(string inner, double[][] earlier, FeatureMatrix trainX, int[] trainY, IReadOnlyList<Fold> folds, int seed, bool grouped)
    {
        var oof = new double[trainX.Rows];
        foreach (var fold in folds)
        {
            var foldX = trainX.SelectRows(fold.Train);
            var foldY = fold.Train.Select(i => trainY[i]).ToArray();
            var p = Predict(inner, earlier, foldX, foldY, BinnedDataset.Create(foldX), Enumerable.Range(0, foldX.Rows).ToArray(), trainX.SelectRows(fold.Validation), seed, grouped);
            for (var i = 0; i < p.Length; i++)
            {
                oof[fold.Validation[i]] = p[i];
            }
        }

        return oof;
    }

    private static double Logit(double p)
    {
        var q = Math.Clamp(p, 1e-12, 1 - 1e-12);
        return Math.Log(q / (1 - q));
    }

    private static (double A, double B) Platt(IReadOnlyList<double> p, IReadOnlyList<int> y)
    {
        var z = p.Select(Logit).ToArray();
        double a = 1, b = 0;
        for (var iter = 0; iter < 50; iter++)
        {
            double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
            for (var i = 0; i < z.Length; i++)
            {
                var q = GradientBoostingModel.Sigmoid((a * z[i]) + b);
                var g = q - y[i];
                var h = Math.Max(q * (1 - q), 1e-12);
                ga += g * z[i];
                gb += g;
                haa += h * z[i] * z[i];
                hab += h * z[i];
                hbb += h;
            }

            var det = (haa * hbb) - (hab * hab);
            a -= ((hbb * ga) - (hab * gb)) / det;
            b -= ((haa * gb) - (hab * ga)) / det;
        }

        return (a, b);
    }

    // cal:seen — records whose feature vector is in the training rows keep the model's probability (or a Platt map
    // fitted on stratified out-of-fold rows that were seen in their fold), records never seen get a Platt map fitted on
    // grouped out-of-fold predictions (every validation vector unseen there). cal:unseen maps only unseen records.
    private static double[] SeenCalibrated(bool mapSeen, string inner, double[][] earlier, FeatureMatrix trainX, int[] trainY, BinnedDataset binned, int[] all, FeatureMatrix testX, int seed, bool grouped)
    {
        // Exact copies share a group id, so "seen in the fold's training rows" is a group lookup.
        var groups = DuplicateAnalysis.Analyze(trainX, trainY).GroupIds;
        var unseen = Platt(OutOfFold(inner, earlier, trainX, trainY, CrossValidation.StratifiedFolds(trainY, groups, 5, seed), seed, grouped), trainY);
        (double A, double B) seen = (1, 0);
        if (mapSeen)
        {
            var folds = CrossValidation.StratifiedFolds(trainY, [], 5, seed);
            var oof = OutOfFold(inner, earlier, trainX, trainY, folds, seed, grouped);
            var seenP = new List<double>();
            var seenY = new List<int>();
            foreach (var fold in folds)
            {
                var known = fold.Train.Select(i => groups[i]).ToHashSet();
                foreach (var v in fold.Validation.Where(v => known.Contains(groups[v])))
                {
                    seenP.Add(oof[v]);
                    seenY.Add(trainY[v]);
                }
            }

            seen = Platt(seenP, seenY);
        }

        var testSeen = SeenInTraining(trainX, testX);
        var test = Predict(inner, earlier, trainX, trainY, binned, all, testX, seed, grouped);
        var seenCount = 0;
        var result = new double[test.Length];
        for (var i = 0; i < test.Length; i++)
        {
            var isSeen = testSeen[i];
            seenCount += isSeen ? 1 : 0;
            var (a, b) = isSeen ? seen : unseen;
            result[i] = GradientBoostingModel.Sigmoid((a * Logit(test[i])) + b);
        }

        Console.Error.Write($"[seen {seenCount}/{test.Length} seen a {seen.A:0.00} b {seen.B:0.00} unseen a {unseen.A:0.00} b {unseen.B:0.00}] ");
        return result;
    }
}
