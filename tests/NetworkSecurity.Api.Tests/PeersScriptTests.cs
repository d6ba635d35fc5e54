using System.Diagnostics;
using System.Globalization;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// scripts/bench/peers.py, run for real by Debian's Python with scikit-learn and XGBoost (scripts/prereqs/python-peers.sh),
/// on the splits `evaluate --write-splits` wrote.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // Debian's /usr/bin/python3
public sealed class PeersScriptTests
{
    [Fact]
    public void Peers_score_the_product_by_its_classes_when_the_schema_labels_phishing_1()
    {
        // peers.py took label 1 as legitimate: on 0/1 labels with 1 phishing it scored the product's P(legitimate)
        // against the phishing rows (F1 0.03, AUC 0.004 where evaluate said 0.98 and 0.996).
        using var dir = new TempDirectory();
        var (schema, data) = ZeroOneLabels.Write(dir);
        var splits = Path.Combine(dir.Path, "splits");
        var (evaluated, log, errors) = ProgramProcess.Run(dir, new(), "evaluate", "--data", data, "--schema", schema, "--mode", "gbdt",
            "--seeds", "0", "--write-splits", splits);
        Assert.True(evaluated == CommandLine.Success, errors + log);
        // The command it suggests is the one run below (it said to run accuracy.sh, which evaluates the bundled data anew),
        // by Debian's interpreter (`python3`, a pyenv shim on the development machines, has no scikit-learn).
        Assert.Contains($"compare with the peers on these rows: /usr/bin/python3 scripts/bench/peers.py {splits}", errors, StringComparison.Ordinal); // a log line: standard error

        // The product's F1 (legitimate positive, P(legitimate) > 0.5) straight from product.csv, for the table to match.
        var product = File.ReadLines(Path.Combine(splits, "stratified", "seed0", "product.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.All(product, r => Assert.Equal(r[2] == "1" ? "phishing" : "legitimate", r[1]));
        int tp = 0, fp = 0, fn = 0;
        foreach (var r in product)
        {
            var (legitimate, called) = (r[1] == "legitimate", double.Parse(r[3], CultureInfo.InvariantCulture) > 0.5);
            tp += legitimate && called ? 1 : 0;
            fp += !legitimate && called ? 1 : 0;
            fn += legitimate && !called ? 1 : 0;
        }

        var f1 = 2.0 * tp / ((2 * tp) + fp + fn);

        var (code, stdout, stderr) = Peers(splits);
        Assert.True(code == 0, stderr + stdout);
        // | seed | split | model | train / test rows | test F1 (legitimate) | test AUC | test Brier | test F1 (phishing) | seconds |
        string[] Cells(string table, string start) => table.Split('\n').Single(l => l.StartsWith(start, StringComparison.Ordinal)).Split('|').Select(c => c.Trim()).ToArray();
        var ours = Cells(stdout, "| 0 | stratified | product |");
        var xgboost = Cells(stdout, "| 0 | stratified | XGBoost 1.7 |");
        Assert.Equal(f1.ToString("F4", CultureInfo.InvariantCulture), ours[5]);
        Assert.InRange(double.Parse(xgboost[6], CultureInfo.InvariantCulture), 0.9, 1.0);
        Assert.InRange(double.Parse(ours[5], CultureInfo.InvariantCulture), double.Parse(xgboost[5], CultureInfo.InvariantCulture) - 0.05, 1.0);

        // evaluate's table shape: the product's rows are evaluate's own, cell for cell, in the same columns (the table
        // had split and seed swapped, the metrics in another order, no phishing F1 and no mean rows).
        var header = Cells(stdout, "| seed | split |");
        Assert.Equal(Cells(log, "| seed | split |")[..3], header[..3]);
        Assert.Equal(Cells(log, "| seed | split |")[5..], header[5..]); // the metrics and seconds, in evaluate's order
        Assert.Equal(Cells(log, "| 0 | stratified |")[5..9], ours[5..9]);
        Assert.Equal(Cells(log, "| mean ± sd | stratified |")[5..9], Cells(stdout, "| mean ± sd | stratified | product |")[5..9]);
        // Every metric's mean with its standard deviation, the AUC's too, for every model.
        foreach (var model in new[] { "product", "XGBoost 1.7", "RF-500" })
        {
            Assert.All(Cells(stdout, $"| mean ± sd | stratified | {model} |")[5..9], cell => Assert.Contains(" ± ", cell, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(2, "'abc' is not a range like 100-107 or a list like 1,3,7", "--seeds", "abc")]
    [InlineData(2, "'4-0' is not a range", "--seeds", "4-0")]
    [InlineData(2, "'-3' is not a whole number 0 or more", "--xgb-max-depth=-3", "--seeds", "7")] // an XGBoostError traceback
    [InlineData(2, "argument --seeds: given more than once; give it once", "--seeds", "7", "--seeds", "8")] // took 8 without a word
    [InlineData(2, "argument --xgb-max-depth: given more than once; give it once", "--xgb-max-depth", "3", "--xgb-max-depth=4", "--seeds", "7")]
    [InlineData(1, "no seed<N>/ folder of the seeds asked for", "--seeds", "1,3")] // a list was a ValueError traceback
    [InlineData(1, "no seed<N>/ folder; run evaluate --write-splits")] // an empty split folder was an IndexError traceback
    [InlineData(1, "no product.csv; evaluate --write-splits writes", "--seeds", "7")] // a FileNotFoundError traceback
    public void A_bad_argument_or_folder_is_one_line_naming_it_not_a_traceback(int expectedCode, string message, params string[] options)
    {
        using var dir = new TempDirectory();
        var splits = Path.Combine(dir.Path, "splits");
        if (!options.Contains("7"))
        {
            Directory.CreateDirectory(Path.Combine(splits, "stratified")); // read first: no seed folder in it
        }

        Directory.CreateDirectory(Path.Combine(splits, "grouped", "seed7")); // a split without product.csv
        File.WriteAllText(Path.Combine(splits, "grouped", "seed7", "train.csv"), "a,Result\n1,1\n");
        File.WriteAllText(Path.Combine(splits, "grouped", "seed7", "test.csv"), "a,Result\n1,1\n");

        var (code, stdout, stderr) = Peers([splits, .. options]);

        Assert.Equal(expectedCode, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("| grouped |", stdout, StringComparison.Ordinal); // nothing scored (no split's row)
    }

    [Theory]
    [InlineData("", "grouped: no seed<N>/ folder; run evaluate --write-splits")] // an evaluate stopped before its first seed
    [InlineData("seed0", "seed0: no product.csv; evaluate --write-splits writes")] // a seed folder left half-written
    public void Every_split_folder_is_checked_before_any_peer_is_fitted(string groupedSeed, string message)
    {
        // A complete stratified split beside a grouped/ that cannot be compared: peers.py fitted every stratified seed
        // (minutes on the real data), printed their rows, then stopped without a summary.
        using var dir = new TempDirectory();
        var splits = Path.Combine(dir.Path, "splits");
        var seed = Path.Combine(splits, "stratified", "seed0");
        Directory.CreateDirectory(seed);
        var rows = Enumerable.Range(0, 40).Select(i => $"{(i % 2 == 0 ? 1 : -1)},{(i % 3) - 1},{(i % 2 == 0 ? 1 : -1)}").ToArray();
        File.WriteAllLines(Path.Combine(seed, "train.csv"), ["a,b,Result", .. rows]);
        File.WriteAllLines(Path.Combine(seed, "test.csv"), ["a,b,Result", .. rows[..10]]);
        File.WriteAllLines(Path.Combine(seed, "product.csv"), ["location,class,label,legitimate_probability",
            .. rows[..10].Select((r, i) => $"line {i + 2},{(r.EndsWith(",1", StringComparison.Ordinal) ? "legitimate,1,0.9" : "phishing,-1,0.1")}")]);
        Directory.CreateDirectory(Path.Combine(splits, "grouped", groupedSeed));
        if (groupedSeed != "")
        {
            File.Copy(Path.Combine(seed, "train.csv"), Path.Combine(splits, "grouped", groupedSeed, "train.csv"));
            File.Copy(Path.Combine(seed, "test.csv"), Path.Combine(splits, "grouped", groupedSeed, "test.csv"));
        }

        var (code, stdout, stderr) = Peers(splits);

        Assert.Equal(1, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout); // no stratified row: nothing was fitted
    }

    [Theory]
    [InlineData("train.csv", "b,a,Result", "column 1 of test.csv is a and of train.csv b; they must be the same columns in the same order")] // fitted on one order, scored on the other: exit 0
    [InlineData("train.csv", "a,Result", "test.csv has 3 columns and train.csv 2")] // an XGBoost feature-shape traceback
    [InlineData("train.csv", "x", "train.csv line 4: 1 fields, where the header has 3")] // an inhomogeneous-shape traceback
    [InlineData("train.csv", "1,abc,1", "train.csv line 4, column b: 'abc' is not a number")] // a ValueError traceback
    [InlineData("test.csv", "", "test.csv: empty, not even a header")]
    [InlineData("product.csv", "location,class,label,p", "product.csv: no legitimate_probability column")] // a KeyError traceback
    [InlineData("product.csv", "\"line 2\",legitimate,1,7", "product.csv line 2: legitimate_probability '7' is not a probability from 0 to 1")] // a ValueError traceback
    [InlineData("product.csv", "\"line 2\",legitimate,1,0.9", "product.csv has 11 rows and test.csv 10; they pair row by row")]
    [InlineData("product.csv", "legitimate", "product.csv: every test row is legitimate; a split's test rows need both classes")] // blamed train.csv's labels
    [InlineData("train.csv", "legitimate", "train.csv: every row is legitimate; a split needs both classes")] // an XGBoost traceback
    public void A_bad_file_in_any_seed_is_one_line_naming_it_before_any_peer_is_fitted(string file, string change, string message)
    {
        // Seed 0 is complete and sound; seed 1's file is changed. Every file is read before the first fit: a traceback
        // (or, for columns in another order, a table scored on the wrong features) came after seed 0 had been fitted.
        using var dir = new TempDirectory();
        var splits = Path.Combine(dir.Path, "splits");
        foreach (var seed in new[] { "seed0", "seed1" })
        {
            var folder = Directory.CreateDirectory(Path.Combine(splits, "stratified", seed)).FullName;
            var rows = Enumerable.Range(0, 40).Select(i => $"{(i % 2 == 0 ? 1 : -1)},{(i % 3) - 1},{(i % 2 == 0 ? 1 : -1)}").ToList();
            string[] train = ["a,b,Result", .. rows];
            string[] test = ["a,b,Result", .. rows[..10]];
            string[] product = ["location,class,label,legitimate_probability",
                .. rows[..10].Select((r, i) => $"\"line {i + 2}\",{(r.EndsWith(",1", StringComparison.Ordinal) ? "legitimate,1,0.9" : "phishing,-1,0.1")}")];
            if (seed == "seed1")
            {
                if (change == "legitimate" && file == "train.csv")
                {
                    train = [.. train.Where(r => !r.EndsWith(",-1", StringComparison.Ordinal))];
                }
                else if (change == "legitimate")
                {
                    test = [.. test.Where(r => !r.EndsWith(",-1", StringComparison.Ordinal))];
                    product = [.. product.Where(r => !r.Contains("phishing", StringComparison.Ordinal))];
                }
                else if (file == "train.csv" && change.EndsWith("Result", StringComparison.Ordinal))
                {
                    train = [change, .. train.Skip(1).Select(r => change == "a,Result" ? r[(r.IndexOf(',', StringComparison.Ordinal) + 1)..] : r)];
                }
                else if (file == "train.csv")
                {
                    train = [.. train[..3], change, .. train[3..]];
                }
                else if (file == "test.csv")
                {
                    test = [];
                }
                else if (change.StartsWith("location", StringComparison.Ordinal))
                {
                    product = [change, .. product.Skip(1)];
                }
                else if (change.EndsWith(",7", StringComparison.Ordinal))
                {
                    product = [product[0], change, .. product[2..]];
                }
                else
                {
                    product = [.. product, change];
                }
            }

            File.WriteAllLines(Path.Combine(folder, "train.csv"), train);
            File.WriteAllLines(Path.Combine(folder, "test.csv"), test);
            File.WriteAllLines(Path.Combine(folder, "product.csv"), product);
        }

        var (code, stdout, stderr) = Peers(splits);

        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(splits, "stratified", "seed1"), stderr, StringComparison.Ordinal);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout); // no seed fitted, not even the sound one
    }

    [Fact]
    public void Equal_F1s_reached_by_different_errors_are_a_tie_not_a_win_or_a_loss()
    {
        // Every site looks the same: XGBoost calls all 10 test rows legitimate (2 found, 8 false alarms: F1 4/12), the
        // product finds 1 of the 2 with 3 false alarms (F1 2/6). scikit-learn's F1s of the two differ in the last bit
        // (0.3333333333333333 and 0.33333333333333337), and the summary said 0 of 1 (0 ties): a loss.
        using var dir = new TempDirectory();
        var splits = Path.Combine(dir.Path, "splits");
        var seed = Directory.CreateDirectory(Path.Combine(splits, "stratified", "seed0")).FullName;
        File.WriteAllLines(Path.Combine(seed, "train.csv"), ["a,Result", .. Enumerable.Repeat("1,1", 30), .. Enumerable.Repeat("1,-1", 5)]);
        string[] test = [.. Enumerable.Repeat("1,1", 2), .. Enumerable.Repeat("1,-1", 8)];
        File.WriteAllLines(Path.Combine(seed, "test.csv"), ["a,Result", .. test]);
        double[] product = [0.9, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1];
        File.WriteAllLines(Path.Combine(seed, "product.csv"), ["location,class,label,legitimate_probability",
            .. test.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"line {i + 2},{(r == "1,1" ? "legitimate,1" : "phishing,-1")},{product[i]}"))]);

        var (code, stdout, stderr) = Peers(splits);

        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("| 0 | stratified | product | 35 / 10 | 0.3333 |", stdout, StringComparison.Ordinal);
        Assert.Contains("| 0 | stratified | XGBoost 1.7 | 35 / 10 | 0.3333 |", stdout, StringComparison.Ordinal);
        Assert.EndsWith("| 0 of 1 (1 ties) |", stdout.Split('\n').Single(l => l.Contains("mean test F1", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Peers_impute_with_the_neighbours_evaluate_used()
    {
        // peers.py imputed with KNNImputer(n_neighbors=3) whatever Pipeline:ImputerNeighbors evaluate had used.
        using var dir = new TempDirectory();
        var splits = Path.Combine(dir.Path, "splits");
        var (schema, data) = ZeroOneLabels.Write(dir);
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "evaluate", "--data", data, "--schema", schema,
            "--mode", "gbdt", "--seeds", "0", "--write-splits", splits, "--logs", "none", "--Pipeline:ImputerNeighbors=7");
        Assert.True(code == 0, stderr + stdout);
        var seed = Path.Combine(splits, "stratified", "seed0");
        Assert.Equal("{\"imputer_neighbors\": 7}", File.ReadAllText(Path.Combine(seed, "settings.json")).Trim());

        // One missing cell in the training rows: the peers impute it with evaluate's 7 neighbours.
        var train = File.ReadAllLines(Path.Combine(seed, "train.csv"));
        train[1] = "," + train[1][(train[1].IndexOf(',', StringComparison.Ordinal) + 1)..];
        File.WriteAllLines(Path.Combine(seed, "train.csv"), train);
        (code, stdout, stderr) = Peers(splits);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("1 missing cell(s) imputed by KNN with 7 neighbours, as evaluate did", stderr);

        File.WriteAllText(Path.Combine(seed, "settings.json"), "{\"imputer_neighbors\": 0}");
        (code, _, stderr) = Peers(splits);
        Assert.Equal(1, code);
        Assert.Contains("settings.json: imputer_neighbors 0 is not a whole number from 1 to 50 (Pipeline:ImputerNeighbors)", stderr);
    }

    [Fact]
    public void An_interpreter_without_scikit_learn_is_one_line_naming_it_and_the_one_to_use()
    {
        using var dir = new TempDirectory();

        // -S: without site-packages, as a pyenv or venv `python3` is (a ModuleNotFoundError traceback).
        var (code, stdout, stderr) = PeersWith(["-S"], dir.Path);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("peers.py: No module named 'numpy' in /usr/bin/python3; install Debian's python3-sklearn and python3-xgboost", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", stderr, StringComparison.Ordinal);
    }

    private static (int Code, string Stdout, string Stderr) Peers(params string[] arguments) => PeersWith([], arguments);

    private static (int Code, string Stdout, string Stderr) PeersWith(string[] interpreterOptions, params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = TestPaths.RepositoryRoot };
        foreach (var option in interpreterOptions)
        {
            start.ArgumentList.Add(option);
        }

        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", "peers.py"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = "1"; // as accuracy.sh runs it
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        return ProgramProcess.Execute(start, 300, "peers.py");
    }
}
