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
        var cells = stdout.Split('\n').Single(l => l.StartsWith("| stratified | 0 |", StringComparison.Ordinal)).Split('|').Select(c => c.Trim()).ToArray();
        // | split | seed | rows | product F1 | XGBoost F1 | RF-500 F1 | product Brier | XGBoost Brier | RF-500 Brier | product AUC | XGBoost AUC |
        Assert.Equal(f1.ToString("F4", CultureInfo.InvariantCulture), cells[4]);
        Assert.InRange(double.Parse(cells[10], CultureInfo.InvariantCulture), 0.9, 1.0);
        Assert.InRange(double.Parse(cells[4], CultureInfo.InvariantCulture), double.Parse(cells[5], CultureInfo.InvariantCulture) - 0.05, 1.0);
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
        Assert.DoesNotContain("| grouped |", stdout, StringComparison.Ordinal); // nothing scored
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
        Assert.StartsWith("| stratified | 0 | 35 / 10 | 0.3333 | 0.3333 |", stdout.Split('\n').Single(l => l.StartsWith("| stratified | 0 |", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.EndsWith("| 0 of 1 (1 ties) |", stdout.Split('\n').Single(l => l.Contains("mean test F1", StringComparison.Ordinal)), StringComparison.Ordinal);
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
