using System.CommandLine;
using Microsoft.Extensions.Configuration;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Tests;

public sealed class CommandLineTests
{
    private static string[] Common(TempDirectory dir) =>
    [
        "--schema", TestPaths.SchemaFile, "--artifacts", Path.Combine(dir.Path, "Artifacts"),
        "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs"), "--mode", "gbdt",
        "--Pipeline:OverfittingThreshold=1", // small samples overfit; the gate has its own tests
        $"--MLFLOW_TRACKING_URI={Path.Combine(dir.Path, "mlruns")}",
    ];

    [Fact]
    public async Task Train_then_predict_scores_a_csv_offline_through_the_same_code_path()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir)]));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir.Path, "Logs"), "train_*.log"));
        var runMeta = Directory.GetFiles(Path.Combine(dir.Path, "mlruns"), "meta.yaml", SearchOption.AllDirectories)
            .Select(File.ReadAllText).Single(m => m.Contains("run_id:", StringComparison.Ordinal));
        Assert.Contains("status: 3", runMeta);

        var output = Path.Combine(dir.Path, "out.csv");
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", data, "--output", output,
            "--schema", TestPaths.SchemaFile, "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs")]));
        var lines = File.ReadAllLines(output);
        Assert.Equal(1201, lines.Length);
        Assert.EndsWith(",Result,predicted_column,phishing_probability,verdict", lines[0]);
        Assert.Matches(@",(-1|1),0(\.\d+)?|1,(phishing|legitimate)$", lines[1]);

        // Scoring an answer again: its old verdict columns are echoed as input_<name>, never as a second column of one name.
        var again = Path.Combine(dir.Path, "again.csv");
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", output, "--output", again,
            "--schema", TestPaths.SchemaFile, "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs")]));
        var header = File.ReadLines(again).First().Split(',');
        Assert.Equal(header.Length, header.Distinct().Count());
        Assert.EndsWith(",Result,input_predicted_column,input_phishing_probability,input_verdict,predicted_column,phishing_probability,verdict", string.Join(',', header));

        // Records with 20 of 30 features missing: invalid by default (at most half), scored when the setting allows them.
        var sparse = dir.File("sparse.csv", string.Join('\n', File.ReadLines(data).Take(4).Select((line, i) => i == 0 ? line
            : string.Join(',', line.Split(',').Select((cell, c) => c < 20 ? "" : cell)))) + "\n");
        string[] predictSparse = ["predict", "--input", sparse, "--output", Path.Combine(dir.Path, "sparse-out.csv"), "--schema", TestPaths.SchemaFile,
            "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs")];
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(predictSparse));
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync([.. predictSparse, "--Pipeline:MaxMissingFeatureFraction=0.9"]));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir.Path, "sparse-out.csv")).Length);
    }

    [Fact]
    public async Task A_command_removes_the_commands_log_files_older_than_fourteen_days_and_nothing_else()
    {
        using var dir = new TempDirectory();
        var logs = Directory.CreateDirectory(Path.Combine(dir.Path, "Logs")).FullName;
        var old = DateTime.UtcNow - TimeSpan.FromDays(15);
        string Log(string name, DateTime written)
        {
            var path = Path.Combine(logs, name);
            File.WriteAllText(path, "x\n");
            File.SetLastWriteTimeUtc(path, written);
            return path;
        }

        var oldPredict = Log("predict_20261101_120000_4242.log", old);
        var oldPushData = Log("push-data_20261101_120000_77.log", old);
        var recentTrain = Log("train_20261201_120000_4243.log", DateTime.UtcNow - TimeSpan.FromDays(13));
        var service = Log("networksecurity-20261101.log", old); // the service's daily files roll by themselves
        var notes = Log("my_notes_here.log", old);
        // Any command prunes, even one that then fails (no model here).
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["predict", "--input", PipelineFactory.Sample(dir, 50), "--output", Path.Combine(dir.Path, "out.csv"),
            "--schema", TestPaths.SchemaFile, "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", logs]));
        Assert.False(File.Exists(oldPredict));
        Assert.False(File.Exists(oldPushData));
        Assert.True(File.Exists(recentTrain));
        Assert.True(File.Exists(service));
        Assert.True(File.Exists(notes));
        Assert.Single(Directory.GetFiles(logs, $"predict_*_{Environment.ProcessId}.log")); // this run's own
    }

    [Fact]
    public async Task Bad_input_exits_non_zero_and_does_not_touch_final_model()
    {
        using var dir = new TempDirectory();
        var bad = dir.File("bad.csv", "a;b\n1;2\n");
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["train", "--data", bad, .. Common(dir)]));
        Assert.Null(new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
        var log = File.ReadAllText(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Single());
        Assert.Contains("bad.csv, line 1", log);
    }

    [Fact]
    public async Task Unknown_options_and_commands_are_usage_errors()
    {
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--colour", "red"]));
        using var dir = new TempDirectory();
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["fly", "--logs", Path.Combine(dir.Path, "Logs")]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--logs", Path.Combine(dir.Path, "Logs")]));
    }

    [Theory]
    [InlineData("train --seed abc", "--seed: 'abc' is not a whole number from 0 to 2147483647.")]
    [InlineData("train --split sideways", "--split: 'sideways' is not allowed; use one of stratified, grouped.")]
    [InlineData("train --test-fraction 0.9", "--test-fraction: '0.9' is not a number from 0 to 0.5.")]
    [InlineData("train --folds 1", "--folds: '1' is not a whole number from 2 to 20.")]
    [InlineData("evaluate --drop-margin 1.5", "--drop-margin: '1.5' is not a number from 0 to 1.")]
    [InlineData("evaluate --seeds 4-0", "--seeds: '4-0' is not a range like 0-4 or a list like 1,3,7 of distinct seeds 0 or more.")]
    [InlineData("evaluate --seeds -2,2", "--seeds: '-2,2' is not a range like 0-4 or a list like 1,3,7 of distinct seeds 0 or more.")]
    [InlineData("evaluate --seeds 1,1", "--seeds: '1,1' is not a range like 0-4 or a list like 1,3,7 of distinct seeds 0 or more.")]
    [InlineData("evaluate --seeds 0-1000000", "--seeds: '0-1000000' is not a range like 0-4 or a list like 1,3,7 of distinct seeds 0 or more. At most 10,000 seeds.")] // said only that it was not a range
    [InlineData("train --seed -1", "--seed: '-1' is not a whole number from 0 to 2147483647.")]
    [InlineData("evaluate --seed 7", "Unrecognized command or argument '--seed'. Unrecognized command or argument '7'. Did you mean '--seeds'? See 'evaluate --help'.")]
    [InlineData("train --test-frac 0.1", "Did you mean '--test-fraction'?")]
    [InlineData("evaluate --seedss=0-4", "Did you mean '--seeds'?")]
    [InlineData("train --Seed 7", "unknown option '--Seed'")]
    [InlineData("train --Test-Fraction=0.3", "unknown option '--Test-Fraction'")]
    [InlineData("--helpp", "Unrecognized command or argument '--helpp'")]
    [InlineData("-x", "Unrecognized command or argument '-x'")]
    [InlineData("--foo", "error: Unrecognized command or argument '--foo'. See '--help'.")] // began "Required command was not provided."
    [InlineData("--version extra", "--version takes nothing after it (got 'extra').")]
    [InlineData("train --Pipline:Seed=7", "unknown setting 'Pipline:Seed': no section 'Pipline'")]
    [InlineData("train --Pipeline:TestFracton=0", "unknown setting 'Pipeline:TestFracton': Pipeline has no 'TestFracton'")]
    [InlineData("train --Pipeline__Training__Mod=gbdt", "unknown setting 'Pipeline:Training:Mod': Pipeline:Training has no 'Mod'")]
    [InlineData("export --AWS_SECRET_ACCES_KEY=x", "unknown setting 'AWS_SECRET_ACCES_KEY': did you mean 'AWS_SECRET_ACCESS_KEY'?")] // was kept as a key nothing reads: exit 1, "no model"
    [InlineData("train --S3_BUCKT=b", "unknown setting 'S3_BUCKT': did you mean 'S3_BUCKET'?")] // trained and shipped nothing to S3
    [InlineData("predict --CI=true", "unknown setting 'CI': a key without a section is one of the variables NETWORKSECURITY_API_KEY, MLFLOW_TRACKING_URI,")] // read from the environment only
    [InlineData("export --Pipeline:Seed=3 --Pipeline__Seed=5", "--Pipeline:Seed=3 and --Pipeline__Seed=5 set the same setting to different values; give one of them.")] // the last won without a word
    [InlineData("train --Pipeline:Training=gbdt", "unknown setting 'Pipeline:Training': Pipeline:Training is a section, not a value; give one of its keys (Mode, GridPath,")] // ran the whole search
    [InlineData("train --Pipeline__Training gbdt", "Pipeline:Training is a section, not a value")]
    [InlineData("predict --input a.csv", "Option '--output' is required (or Predict:Output in a settings file, or the variable Predict__Output).")]
    [InlineData("predict --input a.csv --output -", "--output: '-' is not a path: the commands read and write files, not standard input or output; give a file name (./- for a file named '-').")] // wrote a file named '-'
    [InlineData("export --output -", "--output: '-' is not a path: the commands read and write files")]
    [InlineData("predict --input - --output a.csv", "--input: '-' is not a path: the commands read and write files")]
    [InlineData("export --output x/", "--output: 'x/' ends with '/', so it names a folder; give the path of a file to write.")] // exit 1, "export failed"
    [InlineData("predict --input a.csv --output /tmp", "--output: '/tmp' is a folder; give the path of a file to write.")]
    [InlineData("export --output /etc/passwd/m.onnx", "--output: Cannot write '/etc/passwd/m.onnx': '/etc/passwd' is a file, not a folder.")]
    [InlineData("fly", "unknown command 'fly'; the commands are train, evaluate, predict, push-data, export and help.")]
    [InlineData("predict --input a.csv --explain --output b.csv", "--explain: '--output' is an option, not a value: give --explain its value first.")] // said only "Unrecognized command or argument 'b.csv'"
    [InlineData("predict --input --output b.csv", "--input: '--output' is an option, not a value: give --input its value first (a path that starts with -- as ./--output).")] // the same
    public void Bad_arguments_get_one_line_naming_the_option_and_exit_code_2(string arguments, string message)
    {
        var (code, stdout, stderr) = RunProgram(arguments.Split(' '));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", stderr + stdout); // no stack trace
    }

    [Fact]
    public void A_variable_given_as_an_option_in_another_case_is_read_as_the_service_reads_it()
    {
        // Configuration ignores case and the service took --mlflow_tracking_uri=...; the commands refused it as
        // "unknown option '--mlflow_tracking_uri'. Options are lower-case", though it was no option and was lower-case.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        var store = Path.Combine(dir.Path, "own-store");
        var (code, stdout, stderr) = RunProgram(["train", "--data", data, "--mode", "gbdt", "--logs", "none", "--artifacts", Path.Combine(dir.Path, "Artifacts"),
            "--final-model", Path.Combine(dir.Path, "final_model"), "--Pipeline:OverfittingThreshold=1", $"--mlflow_tracking_uri={store}"], dir.Path);
        Assert.True(code == 0, stdout + stderr);
        Assert.True(Directory.Exists(store), "the run was tracked where the option said");

        // A capitalised word that is no variable is still an option's typo.
        (code, _, stderr) = RunProgram(["export", "--Mlflow_Tracking_Url=x"], dir.Path);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("unknown option '--Mlflow_Tracking_Url'", stderr);
    }

    [Theory]
    [InlineData("--Pipeline:Training:DropMargin=2", "Pipeline:Training:DropMargin: The field DropMargin must be between 0 and 1.")]
    [InlineData("--Pipeline:Training:CrossValidationFolds=1", "Pipeline:Training:CrossValidationFolds: The field CrossValidationFolds must be between 2 and 20.")]
    [InlineData("--Pipeline:Training:Mode=fastest", "Training:Mode must be 'search' or 'gbdt'.")]
    [InlineData("--learners=fasttree,xgboost", "Pipeline:Training:Learners (--learners): unknown learner(s) or grid entries xgboost; learners: gradient_boosting")]
    [InlineData("--Pipeline:Training:Learners=Random_Forest", "unknown learner(s) or grid entries Random_Forest;")]
    [InlineData("--learners=gradient_boosting_leafwize", "entries of the grid: random_forest, decision_tree, gradient_boosting, gradient_boosting_leafwise,")]
    [InlineData("--grid=no-such-grid.yaml", "Pipeline:Training:GridPath (--grid): Grid file '")]
    [InlineData("--schema=no-such-schema.yaml", "Pipeline:SchemaPath (--schema): Schema file 'no-such-schema.yaml' does not exist.")] // exit 1, naming no setting
    public void Bad_training_settings_are_refused_before_any_work_naming_the_setting(string setting, string message)
    {
        // The Training section is nested in Pipeline: its own attributes are checked too, not only Pipeline's.
        var (code, stdout, stderr) = RunProgram(["train", setting, "--logs", "none"]);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains(message, stderr + stdout);
        Assert.DoesNotContain("Run ", stdout);
    }

    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("train --help")]
    [InlineData("evaluate --help")]
    [InlineData("predict --help")]
    [InlineData("push-data --help")]
    [InlineData("export --help")]
    [InlineData("serve --help")]
    [InlineData("serve --urls http://127.0.0.1:1 -h")]
    [InlineData("help serve")]
    public void Every_command_has_help(string arguments)
    {
        var (code, stdout, _) = RunProgram(arguments.Split(' '));
        Assert.Equal(CommandLine.Success, code);
        Assert.Contains("Usage:", stdout);
        if (arguments.StartsWith("train", StringComparison.Ordinal))
        {
            Assert.Contains("--split <stratified|grouped>", stdout);
        }
        else if (arguments.Contains("serve", StringComparison.Ordinal))
        {
            Assert.Contains("NetworkSecurity.Api [serve] [--urls <url>]", stdout);
        }
        else if (!arguments.Contains(' ', StringComparison.Ordinal))
        {
            Assert.Contains(CommandLine.ExitCodes, stdout);
        }
    }

    [Fact]
    public async Task Choices_are_taken_in_any_case_as_their_help_spelling()
    {
        // --mode GBDT passed the option's parser, then the raw 'GBDT' was refused as a setting (exit code 2): "Invalid
        // configuration: Pipeline:Training:Mode: Training:Mode must be 'search' or 'gbdt'."
        var options = new CliOptions([]);
        var parsed = new RootCommand { TrainCommand.Create(options) }.Parse(["train", "--mode", "GBDT", "--split", "Grouped", "--source", "CSV", "--scoring", "F1", "--seed", "7"]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(
            [new("Pipeline:DataSource", "csv"), new("Pipeline:Seed", "7"), new("Pipeline:Split", "grouped"), new("Pipeline:Training:Mode", "gbdt"), new("Pipeline:Training:Scoring", "f1")],
            options.ConfigurationValues(parsed).OrderBy(pair => pair.Key, StringComparer.Ordinal));

        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 600);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "GBDT", "--split", "Grouped", "--seeds", "0", "--logs", "none"]));
    }

    [Fact]
    public async Task Configuration_keys_still_work_as_options_beside_typed_ones()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 800);
        // An impossible quality gate given as a configuration key: the run trains and is not promoted (exit code 3).
        Assert.Equal(CommandLine.NotPromoted, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir), "--Pipeline:ExpectedScore", "1"]));
        Assert.Null(new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
    }

    [Fact]
    public async Task Evaluate_writes_its_exact_splits_and_the_product_probabilities()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        var splits = Path.Combine(dir.Path, "splits");
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--split", "grouped", "--seeds", "3,5", "--write-splits", splits, "--logs", "none"]));
        foreach (var seed in new[] { 3, 5 })
        {
            var folder = Path.Combine(splits, "grouped", $"seed{seed}");
            var train = File.ReadAllLines(Path.Combine(folder, "train.csv"));
            var test = File.ReadAllLines(Path.Combine(folder, "test.csv"));
            var product = File.ReadAllLines(Path.Combine(folder, "product.csv"));
            Assert.Equal(train[0], test[0]);
            Assert.EndsWith(",Result", train[0], StringComparison.Ordinal);
            Assert.Equal(1200, train.Length - 1 + test.Length - 1);
            Assert.InRange(test.Length - 1, 200, 280);
            Assert.Equal(test.Length, product.Length);
            static string Vector(string line) => line[..line.LastIndexOf(',')];
            var trainVectors = train.Skip(1).Select(Vector).ToHashSet();
            Assert.DoesNotContain(test.Skip(1).Select(Vector), trainVectors.Contains); // grouped: no copy of a test row in training
            for (var i = 1; i < test.Length; i++)
            {
                var fields = product[i].Split(',');
                Assert.Equal(test[i][(test[i].LastIndexOf(',') + 1)..], fields[^2]);
                Assert.InRange(double.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture), 0, 1);
            }
        }

        // No hold-out leaves nothing to evaluate on: a clear error, not an empty table.
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--test-fraction", "0", "--logs", "none"]));

        // The same folder again: refused before any search, so two runs' seed folders are never compared as one.
        var before = Directory.GetFiles(splits, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).ToArray();
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--split", "grouped", "--seeds", "4", "--write-splits", splits, "--logs", "none"]));
        Assert.False(Directory.Exists(Path.Combine(splits, "grouped", "seed4")));
        Assert.Equal(before, Directory.GetFiles(splits, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc).ToArray());
    }

    [Fact]
    public async Task Evaluate_stopped_by_a_signal_stops_between_seeds_says_so_and_leaves_only_whole_seed_folders()
    {
        // evaluate never looked at the token: System.CommandLine gave up after 2 s and the process ended with 143 (130
        // for Ctrl+C) wherever it was, leaving seed folders with a .train.csv.<guid>.tmp or without product.csv.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 600);
        var splits = Path.Combine(dir.Path, "splits");
        using var process = ProgramProcess.Start(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--seeds", "0-9999",
            "--write-splits", splits, "--logs", "none"], dir.Path);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(splits, "stratified", "seed1", "product.csv")) || process.HasExited, TimeSpan.FromSeconds(120)), "no seed written");
            Assert.False(process.HasExited, "evaluate ended before it was stopped");
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(limit.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var output = await stderr + await stdout;
        Assert.True(process.ExitCode == CommandLine.Failed, $"exit {process.ExitCode}: {output}");
        Assert.Contains("SIGTERM received: stopping after the current step", output, StringComparison.Ordinal);
        Assert.Contains("evaluate cancelled", output, StringComparison.Ordinal);
        var seeds = Directory.GetDirectories(Path.Combine(splits, "stratified"));
        Assert.InRange(seeds.Length, 2, 9999);
        foreach (var seed in seeds)
        {
            Assert.Equal(["product.csv", "settings.json", "test.csv", "train.csv"], Directory.GetFiles(seed).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Evaluate_says_which_records_it_sets_aside_as_invalid()
    {
        // Within Pipeline:MaxInvalidRowFraction, evaluate left them out of every split without a word (train warns).
        using var dir = new TempDirectory();
        var lines = File.ReadLines(TestPaths.DataFile).Take(601).ToArray();
        var fields = lines[4].Split(',');
        fields[3] = "2";
        lines[4] = string.Join(',', fields);
        var data = dir.File("one-bad.csv", string.Join('\n', lines));

        var (code, stdout, stderr) = RunProgram(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--seeds", "0",
            "--logs", "none", "--Pipeline:MaxInvalidRowFraction=0.01"], dir.Path);

        Assert.True(code == CommandLine.Success, stderr + stdout);
        Assert.Contains($"1 of 600 records in {data} set aside as invalid (0.167 %; Pipeline:MaxInvalidRowFraction allows 1 %)", stderr, StringComparison.Ordinal);
        Assert.Contains($"{data}, line 5, column 4 (having_At_Symbol): 2 is not an allowed value", stderr, StringComparison.Ordinal);
    }

    [Theory]
    // One phishing feature vector (60 copies) beside 60 distinct legitimate rows: the grouped split takes the whole group
    // to test, and a model of legitimate rows alone was scored (F1 0.5, AUC 0.5).
    [InlineData("one-group", "grouped", "Seed 0: the 30 training rows (of 120) must contain both classes (phishing and legitimate); got 0 and 30.")]
    // Two feature vectors (50 copies each): every row went to test, and the imputer's refusal came out as "Invalid configuration".
    [InlineData("two-vectors", "grouped", "Seed 0: the 0 training rows (of 100) must contain both classes (phishing and legitimate); got 0 and 0.")]
    // Favicon has a value in one row only, a test row with seed 0: train refuses that split, evaluate imputed the column as 0.
    [InlineData("one-favicon", "stratified", "Seed 0: Column Favicon has no value in any of the 1600 training rows")]
    public void Evaluate_refuses_a_seed_whose_training_rows_train_would_refuse(string kind, string split, string message)
    {
        using var dir = new TempDirectory();
        var lines = File.ReadLines(TestPaths.DataFile).ToArray();
        static string Vector(string line) => line[..line.LastIndexOf(',')];
        var phishing = lines.Skip(1).First(l => l.EndsWith(",-1", StringComparison.Ordinal));
        var legitimate = lines.Skip(1).Where(l => l.EndsWith(",1", StringComparison.Ordinal) && Vector(l) != Vector(phishing)).DistinctBy(Vector);
        var rows = kind switch
        {
            "one-group" => Enumerable.Repeat(phishing, 60).Concat(legitimate.Take(60)),
            "two-vectors" => Enumerable.Repeat(phishing, 50).Concat(Enumerable.Repeat(legitimate.First(), 50)),
            _ => lines.Skip(1).Take(2000).Select((l, i) =>
            {
                var fields = l.Split(',');
                fields[9] = i == 0 ? fields[9] : ""; // Favicon
                return string.Join(',', fields);
            }),
        };
        var data = dir.File($"{kind}.csv", string.Join('\n', rows.Prepend(lines[0])));

        var (code, stdout, stderr) = RunProgram(["evaluate", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--seeds", "0",
            "--split", split, "--test-fraction", split == "grouped" ? "0.5" : "0.2", "--logs", "none"], dir.Path);

        Assert.True(code == CommandLine.Failed, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(message, stderr + stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("| 0 |", stdout, StringComparison.Ordinal); // no table row for the seed
    }

    [Fact]
    public void The_published_program_finds_its_bundled_schema_grid_and_data_from_any_folder()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = RunProgram(["train", "--mode", "gbdt", "--logs", "none", "--Pipeline:OverfittingThreshold=1"], workingDirectory: dir.Path);
        Assert.True(code == CommandLine.Success, stderr + stdout);
        Assert.Contains("Promoted model", stdout);
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "final_model")));
    }

    [Theory]
    [InlineData("train evaluate", "--Pipeline:Seed=abc", "Pipeline:Seed 'abc' is not a whole number, 0 or more.")]
    [InlineData("train evaluate", "--Pipeline__ExpectedScore=abc", "Pipeline:ExpectedScore 'abc' is not a number from 0 to 1.")]
    [InlineData("train", "--MLFLOW_TRACKING_URI=http://", "MLFLOW_TRACKING_URI 'http://' is not a valid server URL")]
    [InlineData("train", "--MLFLOW_TRACKING_URI=ftp://127.0.0.1/x", "only http(s):// (an MLflow server), file: or a folder path are supported")]
    [InlineData("train", "--MLFLOW_HTTP_REQUEST_TIMEOUT=abc", "MLFLOW_HTTP_REQUEST_TIMEOUT")]
    [InlineData("train evaluate", "--Serilog:MinimumLevel:Default=Bogus", "invalid logging configuration")]
    [InlineData("train evaluate", "--Pipeline:Split=foo", "Split must be 'stratified' or 'grouped'.")]
    [InlineData("train evaluate", "--Logging:Directory=/etc/passwd/x", "cannot write log files to '/etc/passwd/x'")]
    [InlineData("train evaluate", "--Logging:Directory=/proc", "cannot write log files to '/proc'")] // there, not writable (even by root): ran without a log file
    [InlineData("train evaluate", "--Pipeline:Seed", "the setting '--Pipeline:Seed' has no value")] // was silently the default
    [InlineData("train", "--final-model= fm ", "--final-model: ' fm ' is not a path")] // made a folder named " fm "
    [InlineData("train evaluate", "--Pipeline:ExperimentName=", "Pipeline:ExperimentName")]
    [InlineData("train evaluate", "--learners=lightgbm", "Pipeline:Training:Learners (--learners) 'lightgbm' sets how a search runs, but Pipeline:Training:Mode (--mode) is gbdt")] // trained and promoted our boosted trees instead
    [InlineData("train evaluate", "--scoring=f1", "Pipeline:Training:Scoring (--scoring) 'f1' sets how a search runs, but Pipeline:Training:Mode (--mode) is gbdt")] // ignored without a word
    [InlineData("train", "--drop-margin=0.02", "Pipeline:Training:DropMargin (--drop-margin) '0.02' sets how a search runs")]
    [InlineData("train evaluate", "--Pipeline:Training:Scoring=", "Pipeline:Training:Scoring is empty: give 'f1', 'accuracy' or 'roc_auc', or leave the setting out.")]
    public void A_malformed_setting_is_a_usage_error_in_one_line_never_a_stack_trace(string commands, string setting, string message)
    {
        using var dir = new TempDirectory();
        foreach (var command in commands.Split(' '))
        {
            string[] logs = setting.StartsWith("--Logging", StringComparison.Ordinal) ? [] : ["--logs", "none"];
            var (code, stdout, stderr) = RunProgram([command, "--mode", "gbdt", .. command == "evaluate" ? new[] { "--seeds=1" } : [], setting, .. logs], dir.Path);
            Assert.True(code == CommandLine.UsageError, $"{command} {setting}: exit {code}: {stderr}{stdout}");
            Assert.Contains(message, stderr + stdout);
            Assert.DoesNotContain("   at ", stderr + stdout);
            Assert.DoesNotContain("Unhandled exception", stderr + stdout);
        }
    }

    [Theory]
    [InlineData("--Api:MaxRows=abc", 2, "Api:MaxRows 'abc' is not a whole number, 1 or more.")]
    [InlineData("--Pipeline:TestFraction=2", 2, "invalid configuration: Pipeline:TestFraction: The field TestFraction must be between 0 and 0.5.")] // not "DataAnnotation validation failed for 'PipelineOptions' members"
    [InlineData("--S3_BUCKET=b --S3_ENDPOINT_URL=garbage", 2, "S3_ENDPOINT_URL 'garbage' is not an http(s) URL")]
    [InlineData("--MLFLOW_TRACKING_URI=ftp://x", 2, "only http(s):// (an MLflow server), file: or a folder path are supported")]
    [InlineData("--seed 7", 2, "'--seed' is not a setting of the service")]
    [InlineData("extra-word", 2, "'extra-word' is not a setting of the service")]
    [InlineData("--Pipeline:Seed=3 train", 2, "'train' is a command: give it first")]
    [InlineData("--Api:MaxRowz=5", 2, "unknown setting 'Api:MaxRowz'")]
    [InlineData("--Api=5", 2, "unknown setting 'Api': Api is a section, not a value; give one of its keys (MaxUploadBytes,")]
    [InlineData("--Api:MaxRows=3 --api:maxrows 4", 2, "--Api:MaxRows=3 and --api:maxrows 4 set the same setting to different values; give one of them.")] // served with 4
    [InlineData("--urls=http://127.0.0.1:1", 2, "--urls http://127.0.0.1:0 and --urls=http://127.0.0.1:1 set the same setting to different values")] // listened on the second only
    [InlineData("--MLFLOW_TRACKING_UR=http://127.0.0.1:1", 2, "unknown setting 'MLFLOW_TRACKING_UR': did you mean 'MLFLOW_TRACKING_URI'?")] // tracked into ./mlruns
    [InlineData("--Seed=5", 2, "unknown setting 'Seed': did you mean 'Pipeline:Seed'? A setting names its section.")] // served, and trained with seed 42
    [InlineData("--ASPNETCORE_URLS=http://127.0.0.1:1", 2, "unknown setting 'ASPNETCORE_URLS': the web host reads that name from the environment only; as an option or in a settings file it is 'urls' (--urls=...).")] // listened on localhost:8080
    [InlineData("--Pipeline:HasNoHoldout=true", 2, "unknown setting 'Pipeline:HasNoHoldout': Pipeline has no settable 'HasNoHoldout'")] // worked out from TestFraction
    [InlineData("--Pipeline:Seed:Foo=3", 2, "unknown setting 'Pipeline:Seed:Foo': Pipeline:Seed is a value, not a section")]
    [InlineData("--Tracking:Enable=false", 2, "unknown setting 'Tracking:Enable': Tracking has only 'Enabled' (true or false)")]
    [InlineData("--Logging:LogLevel:Default=Debug", 2, "unknown setting 'Logging:LogLevel:Default': ASP.NET's log levels are not read here, Serilog sets them under Serilog:MinimumLevel: give --Serilog:MinimumLevel:Default=Debug instead")] // read by nothing: no Debug line
    [InlineData("--Logging:Directroy=elsewhere", 2, "unknown setting 'Logging:Directroy': Logging has only 'Directory'")] // logged to Logs/
    [InlineData("--Tracking:Enabled=sometimes", 2, "Tracking:Enabled 'sometimes' is not true or false (1/0, yes/no, on/off)")]
    [InlineData("--Serilog:MinimumLevel:Default=Loud", 2, "invalid logging configuration: Serilog:MinimumLevel:Default 'Loud' is not a level")] // was exit 1, "the service stopped"
    [InlineData("--Serilog:MinimumLevel:Default=7", 2, "Serilog:MinimumLevel:Default '7' is not a level")] // the console went silent
    [InlineData("--Serilog:MinimumLevel:Override:Microsoft=Loud", 2, "Serilog:MinimumLevel:Override:Microsoft 'Loud' is not a level")] // "No LoggingLevelSwitch has been declared"
    [InlineData("--Serilog:LevelSwitches:$app=Debug --Serilog:MinimumLevel:Override:Microsoft=$other", 2, "Serilog:MinimumLevel:Override:Microsoft '$other' is not a level (Verbose, Debug, Information, Warning, Error, Fatal) nor a switch declared under Serilog:LevelSwitches")]
    [InlineData("--Replication:PollSeconds=0", 2, "The field PollSeconds must be between 1 and 3600.")] // was first a host error with a trace
    [InlineData("--Replication:LeaseMode=foo", 2, "LeaseMode")]
    [InlineData("--Replication:LeaseSettleMilliseconds=20000", 2, "Replication:LeaseSettleMilliseconds (20000) must be at most half of Replication:LeaseSeconds (30 s)")]
    [InlineData("--Api:MaxRows", 2, "the setting '--Api:MaxRows' has no value")]
    [InlineData("--Api__RetryAfterSeconds=0", 2, "Api:RetryAfterSeconds: The field RetryAfterSeconds must be between 1 and 3600.")] // was read as a key nothing binds: served with 15
    [InlineData("--Api__MaxRows 0", 2, "Api:MaxRows: The field MaxRows must be between 1")]
    [InlineData("--Api:MaxColumns=20", 2, "Api:MaxColumns (20) is below the 30 features of the schema")] // started, then refused every CSV upload
    [InlineData("--Api:MaxHeaderLength=100", 2, "Api:MaxHeaderLength (100) is below the shortest header the schema")]
    [InlineData("--Api:MaxCellLength=8", 2, "Api:MaxCellLength (8) is below the length of the column name")]
    [InlineData("--Api:MaxLineLength=43", 2, "Api:MaxLineLength (43) is below the shortest record the schema")] // started, then refused every CSV record: 44 characters, 15 features of '1' and 29 commas
    [InlineData("--Api:MaxLineLength=29 --Api:MaxMissingFraction=0.9", 2, "Api:MaxLineLength (29) is below the shortest record the schema")] // 3 features given: 32 characters
    [InlineData("--Pipeline:Training:Scoring=", 2, "Pipeline:Training:Scoring is empty: give 'f1', 'accuracy' or 'roc_auc', or leave the setting out.")] // every run failed, blaming the grid file
    [InlineData("--urls http://127.0.0.1:abc", 2, "'http://127.0.0.1:abc' has a port that is not a number from 0 to 65535")] // Kestrel listened on [::]:80
    [InlineData("--Pipeline:DataSource=mongodb", 2, "Pipeline:DataSource (--source) is 'mongodb' but MONGODB_URL (or MONGO_DB_URL) is not set.")]
    [InlineData("--Pipeline:FinalModelDirectory=/etc/passwd", 2, "Pipeline:FinalModelDirectory (--final-model) '/etc/passwd' is a file, not a folder.")]
    [InlineData("--urls ftp://127.0.0.1:1", 2, "'ftp://127.0.0.1:1' is not an http:// or https:// address to listen on")]
    [InlineData("--Kestrel:Endpoints:Http:Url=ftp://127.0.0.1:1", 2, "Kestrel:Endpoints:Http:Url: 'ftp://127.0.0.1:1' is not an http:// or https:// address")] // exit 1, after training had begun
    public void The_service_refuses_a_setting_it_cannot_use_at_start_in_one_line(string arguments, int exitCode, string message)
    {
        using var dir = new TempDirectory();
        // A case of its own --urls replaces the default one: the same key twice with other values is refused.
        string[] urls = arguments.StartsWith("--urls ", StringComparison.Ordinal) ? [] : ["--urls", "http://127.0.0.1:0"];
        var (code, stdout, stderr) = RunProgram([.. urls, .. arguments.Split(' '), "--Logging:Directory=none"], dir.Path, timeoutSeconds: 60);
        Assert.True(code == exitCode, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(message, stderr + stdout);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    [Theory]
    [InlineData(0.5, 44)] // 15 of 30 features given, each '1', and 29 commas
    [InlineData(0.9, 32)]
    [InlineData(0, 59)]
    public void A_line_limit_no_record_of_the_schema_fits_is_refused_and_the_shortest_record_is_taken(double maxMissing, int shortest)
    {
        // Api:MaxLineLength=40 started, then refused every CSV record with 413 "the line is longer than 40 characters", as
        // Api:MaxColumns=20 did before the columns were checked at start.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Pipeline:SchemaPath"] = TestPaths.SchemaFile }).Build();
        var validator = new NetworkSecurity.Api.Hosting.CsvLimitsValidator(configuration);
        var refused = validator.Validate(null, new NetworkSecurity.Api.Hosting.ApiOptions { MaxLineLength = shortest - 1, MaxMissingFraction = maxMissing });
        Assert.True(refused.Failed);
        Assert.Contains($"Api:MaxLineLength ({shortest - 1}) is below the shortest record the schema '{TestPaths.SchemaFile}' allows ({shortest} characters", refused.FailureMessage);
        Assert.True(validator.Validate(null, new NetworkSecurity.Api.Hosting.ApiOptions { MaxLineLength = shortest, MaxMissingFraction = maxMissing }).Succeeded);
    }

    [Fact]
    public void Named_values_of_settings_take_any_case_as_their_options_do()
    {
        // --mode GBDT and --source CSV were taken; Pipeline__Training__Mode=GBDT, the same name as a setting, stopped every
        // command and the service ("Training:Mode must be 'search' or 'gbdt'"), and so did Split, Scoring and DataSource.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 600);
        var (code, stdout, stderr) = RunProgram(["train", "--data", data, "--logs", "none", "--Pipeline:OverfittingThreshold=1",
            "--artifacts", Path.Combine(dir.Path, "Artifacts"), "--final-model", Path.Combine(dir.Path, "final_model"),
            "--Pipeline:Training:Mode=GBDT", "--Pipeline:Split=Grouped", "--Pipeline:Training:Scoring=ROC_AUC", "--Pipeline:DataSource=CSV"], dir.Path);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Promoted model", stdout);
        var card = File.ReadAllText(Directory.GetFiles(Path.Combine(dir.Path, "final_model"), "model_card.json", SearchOption.AllDirectories).Single());
        Assert.Contains("grouped", card, StringComparison.Ordinal);

        var replication = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Replication:LeaseMode"] = "Settle" }).Build()
            .GetSection("Replication").Get<NetworkSecurity.Api.Replication.ReplicationOptions>()!;
        Assert.Equal("settle", replication.LeaseMode);
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(replication, new(replication), null, validateAllProperties: true));
    }

    [Fact]
    public void Commands_take_a_level_switch_declared_in_the_Serilog_section()
    {
        // Serilog's documented switches ("LevelSwitches": {"$app": "Debug"}, "Override": {"Microsoft": "$app"}) were refused
        // as "'$app' is not a level": no command nor the service started with such a section.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 600);
        var (code, stdout, stderr) = RunProgram(["train", "--data", data, "--mode", "gbdt", "--logs", "none", "--Pipeline:OverfittingThreshold=1",
            "--artifacts", Path.Combine(dir.Path, "Artifacts"), "--final-model", Path.Combine(dir.Path, "final_model"),
            "--Serilog:LevelSwitches:$quiet=Warning", "--Serilog:MinimumLevel:ControlledBy=$quiet", "--Serilog:MinimumLevel:Override:NetworkSecurity=$quiet"], dir.Path);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Promoted model", stdout);
        Assert.DoesNotContain("INF]", stderr); // the switch's level is the one in force
    }

    [Fact]
    public async Task Train_refuses_artifact_and_model_folders_it_cannot_use_before_any_work()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        var finalModel = Directory.CreateDirectory(Path.Combine(dir.Path, "final_model")).FullName;
        var link = Path.Combine(dir.Path, "link-to-final_model");
        Directory.CreateSymbolicLink(link, finalModel);
        var file = dir.File("a-file", "x");
        var dangling = Path.Combine(dir.Path, "dangling");
        Directory.CreateSymbolicLink(dangling, Path.Combine(dir.Path, "not-made-yet"));
        string[][] refused =
        [
            ["--artifacts", Path.Combine(finalModel, "Artifacts"), "--final-model", finalModel], // inside
            ["--artifacts", link, "--final-model", finalModel], // the same folder through a link: artifacts were written into final_model/
            ["--artifacts", file, "--final-model", finalModel],
            ["--artifacts", Path.Combine(dir.Path, "Artifacts"), "--final-model", file],
            ["--artifacts", Path.Combine(dir.Path, "Artifacts"), "--final-model", dangling], // was "is a file"
            ["--artifacts", Path.Combine(dir.Path, "Artifacts"), "--final-model", finalModel + "  "], // made a folder of that name (refused as an option value)
        ];
        foreach (var folders in refused)
        {
            Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--data", data, "--schema", TestPaths.SchemaFile, "--logs", Path.Combine(dir.Path, "Logs"), "--mode", "gbdt", .. folders]));
        }

        Assert.Empty(Directory.GetFileSystemEntries(finalModel)); // nothing written where the models live
        var log = string.Concat(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Select(File.ReadAllText));
        Assert.Contains("must be separate folders, neither inside the other", log);
        Assert.Contains($"Pipeline:ArtifactsRoot (--artifacts) '{file}' is a file, not a folder.", log);
        Assert.Contains($"Pipeline:FinalModelDirectory (--final-model) '{file}' is a file, not a folder.", log);
        Assert.Contains($"Pipeline:FinalModelDirectory (--final-model) '{dangling}' is a symbolic link to '{Path.Combine(dir.Path, "not-made-yet")}', which is not a folder", log);
        Assert.False(Directory.Exists(finalModel + "  "));
    }

    [Theory]
    [InlineData("   ", "is blank or has spaces around it")]
    [InlineData(" s3cret ", "is blank or has spaces around it")]
    [InlineData("clé-secrète", "holds a character outside printable ASCII")] // the page's fetch sent ISO-8859-1: Kestrel's 400
    [InlineData("ключ", "holds a character outside printable ASCII")] // the page's fetch refused to send it
    public void The_service_refuses_an_api_key_no_client_could_send(string key, string why)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = RunProgram(["--urls", "http://127.0.0.1:0", $"--NETWORKSECURITY_API_KEY={key}", "--Logging:Directory=none"], dir.Path, timeoutSeconds: 60);
        Assert.True(code == CommandLine.UsageError, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"NETWORKSECURITY_API_KEY (Api:TrainApiKey) {why}", stderr);
    }

    [Fact]
    public void The_service_started_outside_its_folder_reads_the_settings_file_beside_the_program()
    {
        // dotnet run starts in the repository root, where no appsettings.json is.
        using var dir = new TempDirectory();
        var configuration = new ConfigurationManager();
        configuration.AddJsonFile(new Microsoft.Extensions.FileProviders.PhysicalFileProvider(dir.Path), "appsettings.json", optional: true, reloadOnChange: false);
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Api:RetryAfterSeconds"] = "99" }); // later sources still win
        NetworkSecurity.Api.Hosting.HostSettings.ReadSettingsBesideProgram(configuration, dir.Path, AppContext.BaseDirectory);
        Assert.Equal("Network_Data/phisingData.csv", configuration["Pipeline:DataPath"]);
        Assert.Equal("99", configuration["Api:RetryAfterSeconds"]);

        // A settings file in the working folder is the one read.
        using var own = new TempDirectory();
        own.File("appsettings.json", """{"Pipeline": {"DataPath": "mine.csv"}}""");
        var mine = new ConfigurationManager();
        mine.AddJsonFile(new Microsoft.Extensions.FileProviders.PhysicalFileProvider(own.Path), "appsettings.json", optional: true, reloadOnChange: false);
        NetworkSecurity.Api.Hosting.HostSettings.ReadSettingsBesideProgram(mine, own.Path, AppContext.BaseDirectory);
        Assert.Equal("mine.csv", mine["Pipeline:DataPath"]);
    }

    [Fact]
    public void A_port_in_use_stops_the_service_with_exit_code_1_in_one_line_and_the_log_file_keeps_the_detail()
    {
        using var dir = new TempDirectory();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var logs = Path.Combine(dir.Path, "Logs");
        var (code, stdout, stderr) = RunProgram(["--urls", $"http://127.0.0.1:{port}", $"--Logging:Directory={logs}", "--Api:TrainOnStartup=false"], dir.Path, timeoutSeconds: 60);
        Assert.True(code == CommandLine.Failed, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"Failed to bind to address http://127.0.0.1:{port}: address already in use", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.Contains("Hosting failed to start", string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText)));
    }

    [Fact]
    public void Version_prints_the_version_and_does_not_start_the_service()
    {
        var (code, stdout, _) = RunProgram(["--version"], timeoutSeconds: 60);
        Assert.Equal(CommandLine.Success, code);
        Assert.Matches(@"^\d+\.\d+", stdout.Trim());
    }

    [Fact]
    public async Task Evaluate_checks_its_data_and_settings_as_train_does()
    {
        using var dir = new TempDirectory();
        var lines = File.ReadAllLines(TestPaths.DataFile).Take(401).ToArray();
        var badCell = dir.File("bad.csv", string.Join('\n', lines.Select((l, i) => i == 5 ? "7" + l[l.IndexOf(',', StringComparison.Ordinal)..] : l)));
        var oneClass = dir.File("one.csv", string.Join('\n', lines.Where((l, i) => i == 0 || l.EndsWith(",1", StringComparison.Ordinal))));
        var emptyColumn = dir.File("empty.csv", string.Join('\n', lines.Select((l, i) => i == 0 ? l : string.Join(',', l.Split(',').Select((v, c) => c == 3 ? "" : v)))));
        string[] Evaluate(string data) => ["evaluate", "--data", data, "--seeds", "1", "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--logs", Path.Combine(dir.Path, "Logs")];

        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(Evaluate(badCell)));
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(Evaluate(oneClass)));
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(Evaluate(emptyColumn)));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync([.. Evaluate(PipelineFactory.Sample(dir, 400)), "--test-fraction", "0"]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync([.. Evaluate(PipelineFactory.Sample(dir, 400)), "--Pipeline:ImputerNeighbors=0"]));
        // A test split of no row or of one class gave a "mean test F1" of NaN or 1.0000 and exit code 0.
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync([.. Evaluate(PipelineFactory.Sample(dir, 400)), "--test-fraction", "0.001"]));
        var log = string.Concat(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Select(File.ReadAllText));
        Assert.Contains("Seed 1: the 0 test rows (0.001 of 400) must contain both classes", log);
        Assert.Contains("bad.csv, line 6, column 1 (having_IP_Address): 7 is not an allowed value", log);
        Assert.Contains("the rows must contain both classes", log);
        Assert.Contains("empty.csv: Column having_At_Symbol has no value in any of the 400 rows", log);
        Assert.Contains("evaluate needs a test split", log);
        Assert.Contains("ImputerNeighbors", log);

        // --source mongodb is the collection, not the CSV: without MONGODB_URL there is nothing to evaluate (a setting
        // missing, so a usage error before any work).
        var (code, stdout, stderr) = RunProgram(["evaluate", "--mode", "gbdt", "--seeds", "1", "--source", "mongodb", "--logs", "none"], dir.Path);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("MONGODB_URL", stderr + stdout);
    }

    [Fact]
    public async Task Evaluate_refuses_a_seed_whose_training_rows_are_too_few_for_the_folds_before_any_search_naming_it()
    {
        // Eight phishing vectors (two of them twice) among 80 legitimate rows: a grouped split leaves 7 phishing vectors in
        // training on seed 3 and 6 on seed 4, too few for 7 folds. Seed 3 was searched first, then the run failed with
        // "The smaller class has 6 distinct feature vectors …", naming no seed.
        using var dir = new TempDirectory();
        var schema = dir.File("schema.yaml", "version: 1\nfeatures:\n" + string.Concat(Enumerable.Range(0, 4).Select(f => $"  - name: t{f}\n    allowed: [-1, 0, 1]\n"))
            + "target:\n  name: label\n  classes:\n    - value: 1\n      name: phishing\n    - value: 0\n      name: legitimate\n");
        int[] ternary = [-1, 0, 1];
        var legitimate = (from a in new[] { -1, 0 } from b in ternary from c in ternary from d in ternary select $"{a},{b},{c},{d},0").ToArray();
        var phishing = (from b in ternary from c in ternary from d in ternary select $"1,{b},{c},{d},1").Take(8).ToArray();
        var rows = legitimate.Concat(legitimate.Take(26)).Concat(phishing.SelectMany((row, i) => Enumerable.Repeat(row, i < 2 ? 2 : 1)));
        var data = dir.File("groups.csv", "t0,t1,t2,t3,label\n" + string.Join('\n', rows) + "\n");
        var logs = Path.Combine(dir.Path, "Logs");

        var code = await CommandLine.RunAsync(["evaluate", "--data", data, "--schema", schema, "--seeds", "3-4", "--split", "grouped", "--folds", "7",
            "--learners", "decision_tree", "--logs", logs]);

        Assert.Equal(CommandLine.Failed, code);
        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains("Seed 4: The smaller class is the more common label of 6 distinct feature vectors among the 71 training rows", log);
        Assert.DoesNotContain("Seed 3: test F1", log); // refused before any search
    }

    [Fact]
    public async Task Predict_writes_through_a_link_and_refuses_pipes_devices_and_its_own_input()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir)]));
        string[] Predict(string input, string output) => ["predict", "--input", input, "--output", output, "--schema", TestPaths.SchemaFile,
            "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", Path.Combine(dir.Path, "Logs")];

        var target = dir.File("target.csv", "old");
        var link = Path.Combine(dir.Path, "link.csv");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(Predict(data, link)));
        Assert.NotNull(new FileInfo(link).LinkTarget); // still a link
        Assert.Equal(301, File.ReadAllLines(target).Length);

        var fifo = Path.Combine(dir.Path, "fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!)
        {
            mkfifo.WaitForExit();
        }

        // An output that cannot be a file is a usage error (exit 2), as a pipe for the input is: it was exit 1, a failure.
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(data, fifo)));
        Assert.False(FileKind.IsRegularFile(fifo)); // not replaced by a file
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(fifo, Path.Combine(dir.Path, "out.csv"))));
        // A folder as the input is a setting that cannot work, as train's --data folder is (it was exit 1, a failure).
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(dir.Path, Path.Combine(dir.Path, "out.csv"))));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(data, data)));
        Assert.Equal(301, File.ReadAllLines(data).Length); // the input is untouched
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(Predict(data, Path.Combine(data, "x.csv"))));

        var log = string.Concat(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Select(File.ReadAllText));
        Assert.Contains("is not a regular file (a device, pipe or socket)", log);
        Assert.Contains("predict reads its input twice", log);
        Assert.Contains($"Input '{dir.Path}' is a folder; give the CSV file to score.", log);
        Assert.Contains("is the input file", log);
        Assert.Contains("is a file, not a folder", log);

        // Four bad records: every one is named (it named the first only), and nothing is written.
        var lines = File.ReadAllLines(data);
        var features = lines.Select(l => l[..l.LastIndexOf(',')]).ToArray();
        var bad = dir.File("bad.csv", string.Join('\n', features.Take(12).Select((l, i) => i switch
        {
            3 => "2" + l[l.IndexOf(',', StringComparison.Ordinal)..],
            6 => "x" + l[l.IndexOf(',', StringComparison.Ordinal)..],
            10 => new string(',', 29),
            8 => "1,1,1", // another number of fields: listed with the rest, not the end of the reading
            _ => l,
        })));
        var badOutput = Path.Combine(dir.Path, "bad-out.csv");
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(Predict(bad, badOutput)));
        Assert.False(File.Exists(badOutput));
        log = string.Concat(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Select(File.ReadAllText));
        Assert.Contains("4 problem(s) in 4 record(s); nothing was written:", log);
        Assert.Contains("line 4, column 1 (having_IP_Address): 2 is not an allowed value", log);
        Assert.Contains("line 7, column 1 (having_IP_Address)", log);
        Assert.Contains("line 9: 3 fields but the header has 30", log);
        Assert.Contains("line 11", log);

        // One bad record is listed the same way: it said "1 problem(s) in 1 record(s); first: …", not that nothing was written.
        var one = dir.File("one.csv", string.Join('\n', features.Take(5).Select((l, i) => i == 2 ? "2" + l[l.IndexOf(',', StringComparison.Ordinal)..] : l)));
        var oneOutput = Path.Combine(dir.Path, "one-out.csv");
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(Predict(one, oneOutput)));
        Assert.False(File.Exists(oneOutput));
        log = string.Concat(Directory.GetFiles(Path.Combine(dir.Path, "Logs")).Select(File.ReadAllText));
        Assert.Contains("1 problem(s) in 1 record(s); nothing was written:", log);
        Assert.Contains("line 3, column 1 (having_IP_Address): 2 is not an allowed value", log);
    }

    [Fact]
    public async Task Artifacts_and_the_final_model_must_be_separate_folders()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        var same = Path.Combine(dir.Path, "models");
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir), "--artifacts", same, "--final-model", same]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir), "--artifacts", Path.Combine(same, "a"), "--final-model", same]));
        Assert.False(Directory.Exists(same));
    }

    [Fact]
    public void Training_on_every_row_reports_the_cross_validated_f1_and_importance_on_the_training_rows()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 600);
        var (code, stdout, stderr) = RunProgram(["train", "--data", data, .. Common(dir), "--test-fraction", "0"], dir.Path);
        Assert.True(code == CommandLine.Success, stderr + stdout);
        Assert.Matches(@"trained on every row \(no hold-out\): cross-validated F1 0\.\d{4}, train F1 0\.\d{4}", stdout);
        Assert.DoesNotContain("NaN", stdout);
        var card = File.ReadAllText(Directory.GetFiles(Path.Combine(dir.Path, "final_model"), "model_card.json", SearchOption.AllDirectories).Single());
        using var json = System.Text.Json.JsonDocument.Parse(card);
        Assert.InRange(json.RootElement.GetProperty("importance").GetProperty("rows").GetInt32(), 1, 600); // distinct training rows, not none
    }

    [Fact]
    public async Task A_schema_with_labels_0_legitimate_and_1_phishing_gives_phishing_verdicts_to_phishing_rows()
    {
        // Classes listed in value order (0 legitimate, then 1 phishing): every verdict came out inverted.
        using var dir = new TempDirectory();
        var (schema, data) = ZeroOneLabels.Write(dir);
        var options = Common(dir).Select(a => a == TestPaths.SchemaFile ? schema : a).ToArray();
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, .. options]));

        var output = Path.Combine(dir.Path, "verdicts.csv");
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", data, "--output", output,
            "--schema", schema, "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", "none"]));
        var rows = File.ReadLines(output).Skip(1).Select(l => l.Split(',')).ToArray();
        var (label, predicted, verdict) = (30, 31, 33);
        Assert.Contains(rows, r => r[label] == "1");
        Assert.Contains(rows, r => r[label] == "0");
        Assert.All(rows, r => Assert.Equal(r[verdict] == "phishing" ? "1" : "0", r[predicted])); // the schema's own encoding
        var agree = rows.Count(r => (r[label] == "1") == (r[verdict] == "phishing"));
        Assert.True(agree > rows.Length * 0.9, $"{agree} of {rows.Length} verdicts agree with the labels");
    }

    [Theory]
    [InlineData("train")]
    [InlineData("evaluate")]
    public void Data_given_with_the_mongodb_source_is_a_usage_error_not_dropped(string command)
    {
        // The collection was read and the file given ignored: a run trained on other data than the one asked for.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 50);
        var (code, stdout, stderr) = RunProgram([command, "--source", "mongodb", "--data", data, "--mode", "gbdt", "--logs", "none",
            "--MONGODB_URL=mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"], dir.Path);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains($"--data '{data}' is a CSV file, but the data source (--source, Pipeline:DataSource) is mongodb, which reads the collection", stderr + stdout);
    }

    [Fact]
    public void Push_data_refuses_a_file_training_would_refuse_before_sending_anything()
    {
        using var dir = new TempDirectory();
        var noLabel = dir.File("nolabel.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(50).Select(l => l[..l.LastIndexOf(',')])));
        // Nothing listens on port 1: the file is refused before any connection is tried, so the answer is about the file.
        var (code, stdout, stderr) = RunProgram(["push-data", "--file", noLabel, "--drop", "--logs", "none", "--MONGODB_URL=mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"], dir.Path);
        Assert.Equal(CommandLine.Failed, code);
        Assert.Contains("missing the target column 'Result'", stderr + stdout);

        var oneClass = dir.File("one.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Where((l, i) => i == 0 || l.EndsWith(",-1", StringComparison.Ordinal)).Take(40)));
        (code, stdout, stderr) = RunProgram(["push-data", "--file", oneClass, "--drop", "--logs", "none", "--MONGODB_URL=mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"], dir.Path);
        Assert.Equal(CommandLine.Failed, code);
        Assert.Contains("the records must contain both classes", stderr + stdout);

        // Labels 0/1: every record is invalid, and that is what is said (it was "both classes: got 0 and 39").
        var zeroOne = dir.File("zero-one.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(40).Select((l, i) => i == 0 ? l : l[..l.LastIndexOf(',')] + (l.EndsWith(",-1", StringComparison.Ordinal) ? ",0" : ",1"))));
        (code, stdout, stderr) = RunProgram(["push-data", "--file", zeroOne, "--logs", "none", "--MONGODB_URL=mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"], dir.Path);
        Assert.Equal(CommandLine.Failed, code);
        Assert.Contains("'0' is not a class of the target (allowed: -1, 1)", stderr + stdout);

        // No MONGODB_URL is a setting missing: a usage error.
        (code, _, stderr) = RunProgram(["push-data", "--file", oneClass, "--logs", "none"], dir.Path);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("push-data: MONGODB_URL (or MONGO_DB_URL) is not set", stderr);
    }

    [Theory]
    [InlineData("NetworkData.push-data.leases", "", false, "MONGODB_COLLECTION 'NetworkData.push-data.leases' is reserved")]
    [InlineData("NetworkData.push-data.0123456789abcdef0123456789abcdef", "", true, "MONGODB_COLLECTION 'NetworkData.push-data.0123456789abcdef0123456789abcdef' is reserved")]
    [InlineData("long", "", true, "would make a namespace of 289 bytes, and MongoDB allows 255. Use a collection name of at most 196 bytes (MONGODB_COLLECTION) or push without --drop.")]
    [InlineData("NetworkData", "/?w=0", false, "push-data needs acknowledged writes")]
    public async Task Push_data_refuses_collection_names_and_a_url_it_cannot_load_with_as_usage_errors_before_reading_the_file(string collection, string query, bool drop, string expected)
    {
        // Refused as exit 1 ("push-data failed"), after the whole file was checked, where MONGODB_COLLECTION=system.users or
        // an invalid MONGODB_URL is a usage error: these are settings too, told without reading the file or connecting.
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 50);
        var name = collection == "long" ? new string('c', 230) : collection; // networksecurity.<230>.push-data.<32 hex>: 289 bytes
        var (code, stdout, stderr) = RunProgram(["push-data", "--file", data, .. drop ? ["--drop"] : Array.Empty<string>(), "--logs", "none",
            $"--MONGODB_URL={server.ConnectionString}{query}", $"--MONGODB_COLLECTION={name}"], dir.Path);

        Assert.True(code == CommandLine.UsageError, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(expected, stderr);
        Assert.Contains("Nothing was sent.", stderr);
        Assert.DoesNotContain("Pushing 50 records", stderr + stdout); // refused before the file was checked
        Assert.DoesNotContain(server.Commands, c => c is "insert" or "create" or "drop" or "renameCollection");
    }

    [Fact]
    public async Task Push_data_says_which_invalid_records_it_sent_and_which_it_left_out()
    {
        // Within Pipeline:MaxInvalidRowFraction: the malformed records were left out and the invalid one sent without a
        // word ("Inserted 97 documents", exit 0), where train says "set aside as invalid" and lists them.
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        using var dir = new TempDirectory();
        var lines = File.ReadAllLines(PipelineFactory.Sample(dir, 100));
        lines[5] += ",1"; // 32 fields
        lines[8] = "x" + lines[8][lines[8].IndexOf(',', StringComparison.Ordinal)..];
        var data = dir.File("two-bad.csv", string.Join('\n', lines));
        var (code, stdout, stderr) = RunProgram(["push-data", "--file", data, "--drop", "--logs", "none", "--Pipeline:MaxInvalidRowFraction=0.05",
            $"--MONGODB_URL={server.ConnectionString}", "--MONGODB_COLLECTION=bad"], dir.Path);
        Assert.True(code == CommandLine.Success, $"exit {code}: {stderr}{stdout}");
        Assert.Equal(99, server.Documents("networksecurity", "bad").Count);
        Assert.Contains($"2 of 100 records in {data} are invalid (2 %; Pipeline:MaxInvalidRowFraction allows 5 %): 1 with fields that cannot be matched to the columns are not sent", stdout + stderr);
        Assert.Contains($"{data}, line 6: 32 fields but the header has 31", stdout + stderr);
        Assert.Contains($"{data}, line 9, column 1 (having_IP_Address): 'x' is not a number.", stdout + stderr);
        Assert.Contains($"Inserted 99 documents into networksecurity.bad (99 in the collection); 1 malformed records of {data} not sent (listed in the log).", stdout);
    }

    [Fact]
    public async Task Push_data_takes_the_schema_as_train_does_and_train_reads_the_collection_with_it()
    {
        // "push-data --schema custom.yaml" was "Unrecognized command or argument '--schema'": the file was checked
        // against the bundled schema only, unless the schema was set through --Pipeline:SchemaPath.
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        using var dir = new TempDirectory();
        var schema = dir.File("custom.yaml", File.ReadAllText(TestPaths.SchemaFile)
            .Replace("  - name: SFH\n", "  - name: server_form_handler\n    aliases: [SFH]\n", StringComparison.Ordinal)
            .Replace("  name: Result\n  type: int\n  aliases: [class, label, Class]\n  classes:\n    - value: -1\n      name: phishing\n    - value: 1\n      name: legitimate",
                "  name: phish\n  aliases: [label]\n  classes:\n    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing", StringComparison.Ordinal));
        // Label first and 0/1 (1 phishing), SFH under its alias.
        var data = dir.File("custom.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(301).Select((l, i) =>
            (i == 0 ? "label" : l.EndsWith(",-1", StringComparison.Ordinal) ? "1" : "0") + "," + l[..l.LastIndexOf(',')])));
        var mongo = new[] { $"--MONGODB_URL={server.ConnectionString}", "--MONGODB_COLLECTION=custom" };
        var (code, stdout, stderr) = RunProgram(["push-data", "--file", data, "--schema", schema, "--drop", "--logs", "none", .. mongo], dir.Path);
        Assert.True(code == CommandLine.Success, $"exit {code}: {stderr}{stdout}");
        var stored = server.Documents("networksecurity", "custom");
        Assert.Equal(300, stored.Count);
        Assert.Equal("phish", stored[0].Names.Last());
        Assert.Contains("server_form_handler", stored[0].Names);
        Assert.Equal(File.ReadLines(TestPaths.DataFile).Skip(1).Take(300).Count(l => l.EndsWith(",-1", StringComparison.Ordinal)), stored.Count(d => d["phish"].AsInt32 == 1));

        (code, stdout, stderr) = RunProgram(["train", "--source", "mongodb", .. Common(dir).Select(a => a == TestPaths.SchemaFile ? schema : a), .. mongo], dir.Path);
        Assert.True(code == CommandLine.Success, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Promoted model", stdout);
    }

    [Fact]
    public async Task Push_data_killed_hard_leaves_a_staging_collection_that_the_next_push_removes()
    {
        // SIGKILL mid-push: nothing of the process runs, so its staging collection stayed in the database for good.
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        server.Insert("networksecurity", "killed", "{\"old\": 1}");
        static bool IsStagingInsert(MongoDB.Bson.BsonDocument c) => c.GetElement(0).Name == "insert" && c["insert"].AsString.StartsWith("killed.push-data.", StringComparison.Ordinal);
        server.Stall = c => IsStagingInsert(c) && server.Received.Count(IsStagingInsert) > 2; // the third batch waits
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 100);
        string[] push = ["push-data", "--file", data, "--drop", "--batch-size", "10", $"--MONGODB_URL={server.ConnectionString}", "--MONGODB_COLLECTION=killed"];
        int killedPid;
        using (var child = ProgramProcess.Start([.. push, "--logs", "none"], dir.Path))
        {
            var output = child.StandardOutput.ReadToEndAsync();
            var errors = child.StandardError.ReadToEndAsync();
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (server.Received.Count(IsStagingInsert) < 3)
            {
                if (child.HasExited)
                {
                    Assert.Fail($"push-data ended before it was killed: {await errors}{await output}");
                }

                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), "push-data never reached its third batch");
                await Task.Delay(50);
            }

            killedPid = child.Id;
            child.Kill(); // SIGKILL
            await child.WaitForExitAsync();
        }

        var left = Assert.Single(server.CollectionNames("networksecurity"), n => n.StartsWith("killed.push-data.", StringComparison.Ordinal) && !n.EndsWith(".leases", StringComparison.Ordinal));
        Assert.Equal(30, server.Documents("networksecurity", left).Count); // the stalled batch was stored too
        server.Stall = null;
        var logs = Path.Combine(dir.Path, "Logs");

        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync([.. push, "--logs", logs], CancellationToken.None));

        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains($"Removed networksecurity.{left}, the staging collection of an earlier push-data --drop that died before it renamed it (its process, pid {killedPid} on this host, is gone)", log);
        Assert.Equal(["killed"], server.CollectionNames("networksecurity")); // the lease collection too, left empty
        Assert.Equal(100, server.Documents("networksecurity", "killed").Count);
    }

    [Fact]
    public async Task Push_data_stopped_before_its_first_batch_says_the_collection_is_unchanged()
    {
        // It said "stopped after 0 of 100 records were stored: … holds a partial load; run push-data --drop to load … from
        // scratch" of a collection nothing had touched.
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        server.Insert("networksecurity", "untouched", "{\"old\": 1}");
        server.Stall = c => c.GetElement(0).Name == "listCollections"; // looking for dead pushes' staging collections
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 100);
        var logs = Path.Combine(dir.Path, "Logs");
        using var stop = new CancellationTokenSource();
        var push = CommandLine.RunAsync(["push-data", "--file", data, "--batch-size", "10", "--logs", logs,
            $"--MONGODB_URL={server.ConnectionString}", "--MONGODB_COLLECTION=untouched"], stop.Token);
        while (!server.Commands.Contains("listCollections") && !push.IsCompleted)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync(); // as Ctrl+C or SIGTERM
        Assert.Equal(CommandLine.Failed, await push);
        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains($"push-data was stopped before any record was sent: {server.ConnectionString}/networksecurity.untouched is unchanged", log);
        Assert.DoesNotContain("partial load", log);
        Assert.Equal(1, Assert.Single(server.Documents("networksecurity", "untouched"))["old"].AsInt32);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Push_data_stopped_midway_says_what_the_collection_holds(bool drop)
    {
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        server.Insert("networksecurity", "partial", "{\"old\": 1}");
        server.Stall = c => c.GetElement(0).Name == "insert" && server.Commands.Count(n => n == "insert") > 2; // the third batch waits
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 100);
        var logs = Path.Combine(dir.Path, "Logs");
        using var stop = new CancellationTokenSource();
        var push = CommandLine.RunAsync(["push-data", "--file", data, .. drop ? ["--drop"] : Array.Empty<string>(), "--batch-size", "10", "--logs", logs,
            $"--MONGODB_URL={server.ConnectionString}", "--MONGODB_COLLECTION=partial"], stop.Token);
        while (server.Commands.Count(n => n == "insert") < 3 && !push.IsCompleted)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync(); // as Ctrl+C or SIGTERM
        Assert.Equal(CommandLine.Failed, await push);
        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        if (drop)
        {
            // --drop emptied the collection first: stopped, it held 20 of the file's 100 records and nothing of before.
            Assert.Contains("push-data was stopped. networksecurity.partial is unchanged: the documents went to the staging collection networksecurity.partial.push-data.", log);
            Assert.Equal(1, Assert.Single(server.Documents("networksecurity", "partial"))["old"].AsInt32);
            Assert.Equal(["partial"], server.CollectionNames("networksecurity"));
        }
        else
        {
            // It said only "push-data cancelled", then "after 20 of 100 records were stored" with 30 stored.
            Assert.Contains($"push-data was stopped after 20 of 100 records were stored, while records 20–29 were sent but not acknowledged (some or all of them may be stored too): {server.ConnectionString}/networksecurity.partial holds a partial load (after the documents it held before); run push-data --drop to load {data} from scratch", log);
            Assert.Equal(1 + 30, server.Documents("networksecurity", "partial").Count); // the stalled batch was stored too
        }
    }

    [Fact]
    public void Rows_set_aside_as_invalid_are_said_on_the_console_and_shares_keep_their_digits()
    {
        using var dir = new TempDirectory();
        var lines = File.ReadAllLines(PipelineFactory.Sample(dir, 400));
        lines[10] = "x" + lines[10][lines[10].IndexOf(',', StringComparison.Ordinal)..];
        var data = dir.File("one-bad.csv", string.Join('\n', lines));
        var (code, stdout, stderr) = RunProgram(["train", "--data", data, .. Common(dir), "--Pipeline:MaxInvalidRowFraction=0.01"], dir.Path);
        Assert.True(code == CommandLine.Success, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("1 of 400 records set aside as invalid (0.25 %; Pipeline:MaxInvalidRowFraction allows 1 %)", stdout + stderr);
        Assert.Contains("line 11, column 1 (having_IP_Address): 'x' is not a number.", stdout + stderr);

        // Refused: the share allowed is shown with its digits, not as "at most 0.0 %".
        (code, stdout, stderr) = RunProgram(["train", "--data", data, .. Common(dir), "--Pipeline:MaxInvalidRowFraction=0.0001"], dir.Path);
        Assert.Equal(CommandLine.Failed, code);
        Assert.Contains("1 of 400 records are invalid (0.25 %; at most 0.01 % allowed)", stdout + stderr);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(stdout + stderr, "'x' is not a number")); // the list once, not twice
    }

    [Theory]
    [InlineData("predict --input x.csv --output y.csv", "--Api:MaxRows=abc", "Api:MaxRows 'abc' is not a whole number, 1 or more.")]
    [InlineData("export", "--MLFLOW_TRACKING_URI=ftp://x", "only http(s):// (an MLflow server), file: or a folder path are supported")]
    [InlineData("predict --input x.csv --output y.csv", "--Replication:LeaseMode=bogus", "LeaseMode")]
    [InlineData("export", "--NETWORKSECURITY_API_KEY= x", "NETWORKSECURITY_API_KEY (Api:TrainApiKey) is blank or has spaces around it")]
    [InlineData("export", "--S3_PREFIX=../up", "S3_PREFIX '../up' has an empty, '.' or '..' segment")] // checked without a bucket too
    [InlineData("export", "--final-model=/etc/passwd", "Pipeline:FinalModelDirectory (--final-model) '/etc/passwd' is a file, not a folder.")] // was "no model has been promoted"
    public void Every_command_checks_every_setting_the_service_would(string command, string setting, string message)
    {
        // predict and export took these quietly (exit 0), though the README says a setting that does not parse is an error.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = RunProgram([.. command.Split(' '), setting, "--logs", "none"], dir.Path);
        Assert.True(code == CommandLine.UsageError, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(message, stderr + stdout);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", null)]
    [InlineData("http://localhost:5000;https://[::1]:5001", null)]
    [InlineData("http://*:8080", null)]
    [InlineData("http://+:8080/", null)]
    [InlineData("HTTP://0.0.0.0:0", null)]
    [InlineData("http://unix:/run/app.sock", null)]
    [InlineData("http://[::1]", null)]
    [InlineData("http://127.0.0.1:abc", "has a port that is not a number")]
    [InlineData("http://127.0.0.1:", "has a port that is not a number")]
    [InlineData("http://user:pw@127.0.0.1:18464", "has user information")] // listened on [::]:18464
    [InlineData("http://@127.0.0.1:18475", "has user information")]
    [InlineData("http://127.0.0.1:18473:18474", "has more than one ':'")]
    [InlineData("http://[::1:18472", "without its closing ']'")]
    [InlineData("http://unix:rel.sock", "names no Unix socket at an absolute path")] // listened on [::]:80
    [InlineData("http://unix:", "names no Unix socket at an absolute path")]
    [InlineData("http://unix:/", "names no Unix socket at an absolute path")]
    [InlineData("http://127.0.0.1:18460/path", "has a path")]
    [InlineData(" http://127.0.0.1:1", "is not an http:// or https:// address")]
    [InlineData("http://example.com:80", "which Kestrel would take for every interface")]
    [InlineData("http://1:80", "which Kestrel would take for every interface")] // 0.0.0.1 to the parser, a name to Kestrel
    public void Listen_urls_are_what_kestrel_reads_as_written(string urls, string? problem)
    {
        var found = NetworkSecurity.Api.Hosting.HostSettings.ListenUrlProblem(urls);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found);
        }
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:18099", "Kestrel:Endpoints:Web:Url: 'ftp://127.0.0.1:18099' is not an http:// or https:// address")]
    [InlineData("http://example.com:80", "which Kestrel would take for every interface")]
    [InlineData("", "Kestrel:Endpoints:Web:Url is not set")]
    [InlineData("http://127.0.0.1:18099", null)]
    public void Kestrel_endpoints_in_configuration_are_checked_like_urls(string url, string? problem)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Kestrel:Endpoints:Web:Url"] = url }).Build();
        var found = NetworkSecurity.Api.Hosting.HostSettings.EndpointProblem(configuration);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found);
        }
    }

    [Fact]
    public void Port_lists_are_ports()
    {
        Assert.Null(NetworkSecurity.Api.Hosting.HostSettings.PortListProblem("ASPNETCORE_HTTP_PORTS", "8080;8081"));
        Assert.Equal("ASPNETCORE_HTTP_PORTS: 'abc' is not a port from 0 to 65535.", NetworkSecurity.Api.Hosting.HostSettings.PortListProblem("ASPNETCORE_HTTP_PORTS", "abc")); // listened on port 80
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("false", false)] // said "not CI", and was taken for CI
    [InlineData(" False ", false)]
    [InlineData("0", false)]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("github-actions", true)]
    public void Ci_is_on_unless_unset_empty_false_or_0(string? value, bool ci) => Assert.Equal(ci, CliProgress.IsCi(value));

    [Fact]
    public async Task Redirected_progress_says_a_line_every_few_seconds_while_a_step_reports_nothing()
    {
        // README: "a plain log line at each step and every 3 s when the output is redirected". A step that reports
        // nothing (a single fit, the feature importance, a slow store) left CI and container logs silent throughout.
        Assert.False(CliProgress.IsInteractive); // the test runner redirects the output
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var logger = new Serilog.LoggerConfiguration().WriteTo.Sink(new CollectingSink(lines)).CreateLogger();
        int Evaluation() => lines.Count(l => l.StartsWith("train: Evaluation, 90% after ", StringComparison.Ordinal));
        var seen = await CliProgress.RunAsync("train", logger, null, async progress =>
        {
            progress.Report("Evaluation", 0.9);
            for (var i = 0; i < 150 && Evaluation() < 2; i++)
            {
                await Task.Delay(100);
            }

            return Evaluation();
        });
        Assert.True(seen >= 2, string.Join('\n', lines));
        var after = lines.Count;
        await Task.Delay(1500);
        Assert.Equal(after, lines.Count); // none once the command is done
    }

    private sealed class CollectingSink(System.Collections.Concurrent.ConcurrentQueue<string> lines) : Serilog.Core.ILogEventSink
    {
        // As the console writes it ({Message:l}): strings without quotes.
        public void Emit(Serilog.Events.LogEvent logEvent) => lines.Enqueue(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("\"", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Empty_paths_are_usage_errors()
    {
        using var dir = new TempDirectory();
        // export --output "" wrote ./model.onnx; predict --output "" was an "Invalid configuration" about a parameter.
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["export", "--output", "", "--logs", "none"]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--input", "x.csv", "--output", "", "--logs", "none"]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--artifacts", "", "--logs", "none"]));
        Assert.False(File.Exists("model.onnx"));
        var (code, _, stderr) = RunProgram(["export", "--output", "", "--logs", "none"], dir.Path);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("--output: '' is not a path: empty, or with spaces around it.", stderr);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public async Task A_commands_own_key_takes_only_what_its_option_takes()
    {
        // The keys of Export, Predict and PushData were read as given: --Export:Format=pmml exported ONNX (exit 0),
        // --Export:Output=- and --Predict:Output=- wrote a file named '-', and --PushData:Drop=maybe appended without a word,
        // where --format pmml, --output - and --drop maybe are usage errors.
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir)]));
        var model = new[] { "--schema", TestPaths.SchemaFile, "--final-model", Path.Combine(dir.Path, "final_model"), "--logs", "none" };
        string[] Entries() => [.. Directory.GetFileSystemEntries(dir.Path).Where(e => Path.GetFileName(e) != "mlruns").Order()];
        var before = Entries();
        var runs = new (string[] Arguments, string Message)[]
        {
            (["export", "--Export:Format=pmml", .. model], "Export:Format 'pmml' is not allowed; use one of onnx. (Export:Format = 'pmml' from option --Export:Format)"),
            (["export", "--Export__Output=-", .. model], "Export:Output '-' is not a path: the commands read and write files, not standard input or output"),
            (["export", "--Export:Output= padded.onnx", .. model], "Export:Output ' padded.onnx' is not a path: empty, or with spaces around it."),
            (["predict", "--input", data, "--Predict:Output=-", .. model], "Predict:Output '-' is not a path"),
            (["push-data", "--file", data, "--PushData:Drop=maybe", "--logs", "none", "--MONGODB_URL=mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"], "PushData:Drop 'maybe' is not true or false (1/0, yes/no, on/off)."),
        };
        foreach (var (arguments, message) in runs)
        {
            var (code, stdout, stderr) = RunProgram(arguments, dir.Path);
            Assert.True(code == CommandLine.UsageError, $"{string.Join(' ', arguments)}: exit {code}: {stderr}{stdout}");
            Assert.Contains(message, stderr);
        }

        // A settings file's value is checked alike.
        File.WriteAllText(Path.Combine(dir.Path, "appsettings.json"), """{"Export": {"Format": "pmml"}}""");
        var (fileCode, _, fileErrors) = RunProgram(["export", .. model], dir.Path);
        Assert.Equal(CommandLine.UsageError, fileCode);
        Assert.Contains($"Export:Format 'pmml' is not allowed; use one of onnx. (Export:Format = 'pmml' from settings file '{Path.Combine(dir.Path, "appsettings.json")}')", fileErrors);
        File.Delete(Path.Combine(dir.Path, "appsettings.json"));
        Assert.Equal(before, Entries()); // nothing written

        // What the options take, the keys take: ONNX in any case, and PushData:Drop as true or false.
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["export", "--Export:Format=ONNX", "--Export:Output=" + Path.Combine(dir.Path, "m.onnx"), .. model]));
        Assert.True(File.Exists(Path.Combine(dir.Path, "m.onnx")));
    }

    [Fact]
    public async Task Data_files_that_are_devices_or_past_any_real_file_of_records_are_refused_quickly()
    {
        using var dir = new TempDirectory();
        var logs = Path.Combine(dir.Path, "Logs");
        // /dev/zero was read into memory without end (12 GB in 25 s) and the run did not stop on SIGTERM.
        // A setting that cannot work: refused before any run (no failed run recorded), as predict refuses such an input.
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--data", "/dev/zero", .. Common(dir)]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", "/dev/zero", "--seeds", "1", "--mode", "gbdt", "--logs", logs]));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "Artifacts")));
        // A header of 2 MB of commas took gigabytes; it now stops at the header limit.
        var commas = dir.File("commas.csv", new string(',', 2 << 20) + "\n1,2\n");
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["train", "--data", commas, .. Common(dir)]));
        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains("Pipeline:DataPath (--data) '/dev/zero' is not a regular file (a device, pipe or socket); give the CSV file.", log);
        Assert.Contains($"{commas}, line 1: the header is longer than 1,048,576 characters. This is not a file of website records.", log);
        Assert.Null(new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
    }

    [Fact]
    public async Task Outputs_inside_the_final_model_folder_are_refused_and_a_split_folder_is_checked_before_any_search()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["train", "--data", data, .. Common(dir)]));
        var finalModel = Path.Combine(dir.Path, "final_model");
        var logs = Path.Combine(dir.Path, "Logs");
        var current = File.ReadAllText(Path.Combine(finalModel, "CURRENT"));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["export", "--output", Path.Combine(finalModel, "CURRENT"), "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", logs]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--input", data, "--output", Path.Combine(finalModel, current, "out.csv"), "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", logs]));
        Assert.Equal(current, File.ReadAllText(Path.Combine(finalModel, "CURRENT")));

        // Through symbolic links: a link to CURRENT itself (predict replaced it with its verdicts) and a link to the folder.
        var currentLink = Path.Combine(dir.Path, "current-link");
        File.CreateSymbolicLink(currentLink, Path.Combine(finalModel, "CURRENT"));
        var folderLink = Path.Combine(dir.Path, "model-link");
        Directory.CreateSymbolicLink(folderLink, finalModel);
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--input", data, "--output", currentLink, "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", logs]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["export", "--output", Path.Combine(folderLink, "x.onnx"), "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", logs]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", data, "--seeds", "1", "--write-splits", Path.Combine(folderLink, "splits"), "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--final-model", finalModel, "--logs", logs]));
        Assert.Equal(current, File.ReadAllText(Path.Combine(finalModel, "CURRENT")));
        // A log folder in a version's folder broke its manifest (a file added after promotion), and the live model with it.
        var (code, _, stderr) = RunProgram(["predict", "--input", data, "--output", Path.Combine(dir.Path, "o.csv"), "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", Path.Combine(folderLink, current)], dir.Path);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("is inside the final model folder", stderr);
        Assert.Equal([Path.Combine(finalModel, current, "manifest.json")], Directory.GetFiles(Path.Combine(finalModel, current), "manifest.json"));
        Assert.Empty(Directory.GetFiles(Path.Combine(finalModel, current), "*.log"));
        Assert.False(File.Exists(Path.Combine(finalModel, "x.onnx")));
        Assert.False(Directory.Exists(Path.Combine(finalModel, "splits")));
        var file = dir.File("afile", "x");
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", data, "--seeds", "1", "--write-splits", file, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--logs", logs]));
        // A file where the split's folder goes: was exit 1 with only "The file '…/stratified' already exists."
        var splitsWithFile = Directory.CreateDirectory(Path.Combine(dir.Path, "splits-with-file")).FullName;
        File.WriteAllText(Path.Combine(splitsWithFile, "stratified"), "x");
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", data, "--seeds", "1", "--write-splits", splitsWithFile, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--logs", logs]));
        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains("is inside the final model folder", log);
        Assert.Contains("is a file; give a folder", log);
        Assert.Contains($"--write-splits '{splitsWithFile}': '{Path.Combine(splitsWithFile, "stratified")}' is a file, where this run's seed folders go", log);
        Assert.DoesNotContain("Seed 1:", log); // refused before the search
    }

    [Fact]
    public async Task A_write_splits_folder_that_cannot_be_made_is_a_usage_error_naming_the_option()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        var logs = Path.Combine(dir.Path, "Logs");
        var splits = Path.Combine(dir.File("afile", "x"), "splits"); // under a file: a typo, or a read-only mount

        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["evaluate", "--data", data, "--seeds", "1", "--write-splits", splits, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--logs", logs]));

        // Was exit 1 with "Could not find a part of the path '…/afile/splits/stratified'." alone.
        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains($"--write-splits '{splits}': cannot make '{Path.Combine(splits, "stratified")}' for this run's seed folders: ", log);
        Assert.DoesNotContain("Seed 1:", log); // refused before the search
    }

    [Fact]
    public async Task Messages_name_the_actual_problem_a_broken_pointer_too_little_data_or_a_folder()
    {
        using var dir = new TempDirectory();
        var finalModel = Path.Combine(dir.Path, "final_model");
        Directory.CreateDirectory(finalModel);
        File.WriteAllText(Path.Combine(finalModel, "CURRENT"), "garbage");
        var logs = Path.Combine(dir.Path, "Logs");
        var data = PipelineFactory.Sample(dir, 60);
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["predict", "--input", data, "--output", Path.Combine(dir.Path, "o.csv"), "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", logs]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--input", data, "--output", Path.Combine(dir.Path, "o.csv"), "--explain", "0", "--schema", TestPaths.SchemaFile, "--final-model", finalModel, "--logs", logs]));

        // Six rows of one class among 60: too few for five stratified folds, said in those words.
        var lines = File.ReadAllLines(data);
        var few = dir.File("few.csv", string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where(l => l.EndsWith(",1", StringComparison.Ordinal)).Take(3))
            .Concat(lines.Skip(1).Where(l => l.EndsWith(",-1", StringComparison.Ordinal)).Take(40))));
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["train", "--data", few, .. Common(dir).Where(a => a != "--mode" && a != "gbdt"), "--learners", "decision_tree", "--grid", TestPaths.GridFile]));
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["train", "--data", dir.Path, .. Common(dir)])); // a setting that cannot work
        // gbdt mode without a hold-out cross-validates too: the same words, not "Too few rows or groups (Parameter 'k')".
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["train", "--data", few, "--test-fraction", "0", .. Common(dir)]));

        // Eight phishing rows that are copies of two feature vectors: a grouped split keeps copies together, so five
        // folds cannot each hold a phishing vector. This trained on NaN scores and promoted the grid's first entry.
        var phishing = lines.Skip(1).Where(l => l.EndsWith(",-1", StringComparison.Ordinal)).Take(2).ToArray();
        var copies = dir.File("copies.csv", string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where(l => l.EndsWith(",1", StringComparison.Ordinal)).Take(60))
            .Concat(Enumerable.Repeat(phishing, 4).SelectMany(p => p))));
        Assert.Equal(CommandLine.Failed, await CommandLine.RunAsync(["train", "--data", copies, "--split", "grouped", .. Common(dir).Where(a => a != "--mode" && a != "gbdt"), "--learners", "decision_tree", "--grid", TestPaths.GridFile]));

        var log = string.Concat(Directory.GetFiles(logs).Select(File.ReadAllText));
        Assert.Contains("names version garbage, but", log);
        Assert.Matches(@"The smaller class has \d of the \d+ training rows: too few for 5-fold cross-validation, where every fold needs rows of both classes", log);
        Assert.Contains("distinct feature vectors among the", log);
        Assert.Contains("(copies of one vector stay in one fold, counted for the label most of them carry): too few for 5-fold", log);
        Assert.Contains("is a folder; give the CSV file", log);
        Assert.DoesNotContain("(Parameter", log);
    }

    /// <summary>The real program in its own process, as a user runs it (redirected output: plain progress lines).</summary>
    private static (int Code, string Stdout, string Stderr) RunProgram(string[] arguments, string? workingDirectory = null, int timeoutSeconds = 120) =>
        ProgramProcess.Run(arguments, workingDirectory ?? Path.GetTempPath(),
            new Dictionary<string, string> { ["MLFLOW_TRACKING_URI"] = Path.Combine(workingDirectory ?? Path.GetTempPath(), "mlruns") }, timeoutSeconds);
}
