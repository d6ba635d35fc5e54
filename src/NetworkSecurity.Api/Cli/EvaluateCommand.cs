using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NetworkSecurity.Learning.ModelSelection;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Stages;
using NetworkSecurity.Pipeline.Training;
using NetworkSecurity.Learning.Imputation;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Api.Hosting;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>evaluate --seeds 0-4 [--split grouped]</c>: the honest accuracy figure. For each seed: a fresh 80/20 split,
/// the pipeline's own model selection on the training rows only, then test metrics (F1, AUC, Brier). Nothing is promoted.
/// With <c>--write-splits DIR</c> it writes each seed's exact rows (DIR/&lt;split&gt;/seed&lt;N&gt;/train.csv, test.csv) and the
/// product's test probabilities (product.csv), so scripts/bench/accuracy.sh trains the peers on the very same rows.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create(CliOptions options)
    {
        var command = new Command("evaluate", "Honest accuracy: for each seed a fresh train/test split, the pipeline's own model selection on the training rows only, then test metrics. Nothing is promoted.");
        // --seeds, not --seed: every seed makes its own split (a --seed given as well would be silently ignored).
        foreach (var option in options.Pipeline.Where(o => o != options.Seed).Append(options.Seeds).Append(options.WriteSplits).Append(options.Logs))
        {
            command.Add(option);
        }

        CommandLine.SetBody(command, options, async context =>
        {
            var (pipelineOptions, data) = await LoadAsync(context).ConfigureAwait(false);
            var table = await CliProgress.RunAsync("evaluate", context.Logger, context.ConsoleLevel, reporter => Task.Run(() => Run(context, pipelineOptions, data, reporter)), context.Step).ConfigureAwait(false);
            // One write: the console log (an async sink on the same stdout) wrote its last line between the table's rows.
            Console.Out.Write(string.Join(Environment.NewLine, table) + Environment.NewLine);

            return CommandLine.Success;
        });
        return command;
    }

    /// <summary>
    /// The settings, checked as <c>train</c> checks them, and the labelled rows from the configured source (the CSV, or
    /// MongoDB with --source mongodb), refused as <c>train</c> refuses them: invalid rows beyond
    /// Pipeline:MaxInvalidRowFraction, or a single class.
    /// </summary>
    private static async Task<(PipelineOptions Options, NetworkDataset Data)> LoadAsync(CommandContext context)
    {
        var services = new ServiceCollection()
            .AddSingleton(context.Configuration)
            .AddLogging(b => b.ClearProviders().AddProvider(new Serilog.Extensions.Logging.SerilogLoggerProvider(context.Logger)))
            .AddTrainingPipeline(context.Configuration);
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<PipelineOptions>();
        if (options.HasNoHoldout)
        {
            throw new UsageException("evaluate needs a test split: --test-fraction must be above 0 (0 trains on every row and leaves nothing to evaluate on).");
        }

        var schema = SchemaLoader.Load(options.SchemaPath);
        context.Step.Current = "reading the data";
        var table = await provider.GetRequiredService<IDataSource>().ReadAsync(context.CancellationToken).ConfigureAwait(false);
        var parsed = DatasetParser.Parse(table, schema, requireTarget: true, allowUnknownColumns: false, options.MaxMissingFeatureFraction);
        var total = parsed.Valid.Count + parsed.Invalid.Count;
        DataChecks.RequireFewInvalid("records", parsed.Invalid.Count, total, options.MaxInvalidRowFraction, [.. parsed.Invalid.SelectMany(i => i.Problems)]);
        if (parsed.Invalid.Count > 0)
        {
            // Within Pipeline:MaxInvalidRowFraction, as train says it: evaluate left them out of every split without a word.
            context.Logger.Warning("{Invalid} of {Total} records in {Source} set aside as invalid ({Share}; Pipeline:MaxInvalidRowFraction allows {Allowed}): every split leaves them out; the first:{Problems}",
                parsed.Invalid.Count, total, table.Source, DataChecks.Percent((double)parsed.Invalid.Count / total), DataChecks.Percent(options.MaxInvalidRowFraction),
                string.Join(Environment.NewLine, parsed.Invalid.SelectMany(i => i.Problems).Take(10).Select(p => "  " + p).Prepend("")));
        }

        DataChecks.RequireBothClasses(schema, $"{table.Source}: the rows", parsed.Valid.CountOf(0), parsed.Valid.CountOf(1));
        if (DataChecks.EmptyFeatures(schema, parsed.Valid, "rows") is { } empty)
        {
            throw new PipelineException($"{table.Source}: {empty}");
        }

        return (options, parsed.Valid);
    }

    private static List<string> Run(CommandContext context, PipelineOptions options, NetworkDataset data, IProgressReporter reporter)
    {
        var logger = context.Logger;
        var configuration = context.Configuration;
        var seeds = configuration["Evaluate:Seeds"] is { Length: > 0 } text
            ? SeedRange.TryParse(text, out var parsed) ? parsed : throw new UsageException($"Evaluate:Seeds '{text}' {SeedRange.Expected}")
            : [0, 1, 2, 3, 4];
        var writeSplits = configuration["Evaluate:WriteSplits"] is { Length: > 0 } folder ? folder : null;
        if (writeSplits is not null)
        {
            // Before any search: a folder that cannot be written would otherwise fail after minutes of work.
            CommandLine.NotInModelStore(writeSplits, options.FinalModelDirectory, "--write-splits");
            if (File.Exists(writeSplits))
            {
                throw new UsageException($"--write-splits '{writeSplits}' is a file; give a folder.");
            }

            // Seed folders of an earlier run beside this run's would be read as one comparison (peers.py takes every
            // seed folder): a folder that already holds splits is refused, not mixed into.
            var target = Path.Combine(writeSplits, options.Split);
            if (File.Exists(target))
            {
                // Was "The file '…/stratified' already exists." from making the folder, naming neither the option nor why.
                throw new UsageException($"--write-splits '{writeSplits}': '{target}' is a file, where this run's seed folders go; give a new or empty folder, or move that file.");
            }

            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new UsageException($"--write-splits '{writeSplits}': '{target}' already holds splits of an earlier run; give a new or empty folder, or delete that one.");
            }

            try
            {
                Directory.CreateDirectory(target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Was exit 1 with .NET's "Could not find a part of the path …" alone, naming neither the option nor why.
                throw new UsageException($"--write-splits '{writeSplits}': cannot make '{target}' for this run's seed folders: {ex.Message}");
            }
        }

        var schema = SchemaLoader.Load(options.SchemaPath);
        var groups = DuplicateAnalysis.Analyze(data.Features, data.Labels).GroupIds;

        var table = new List<string>
        {
            $"| seed | split | chosen model | CV {options.Training.Scoring} | test F1 (legitimate) | test AUC | test Brier | test F1 (phishing) | seconds |",
            "|---|---|---|---|---|---|---|---|---|",
        };
        // Every split first, so that one whose test rows cannot judge a model (none, or one class: NaN or a perfect
        // F1 of 1.0 on one row) is refused before minutes of searching on the others.
        var splits = seeds.Select(seed => options.IsGroupedSplit
            ? TrainTestSplit.StratifiedGrouped(data.Labels, groups, options.TestFraction, seed)
            : TrainTestSplit.Stratified(data.Labels, options.TestFraction, seed)).ToArray();
        for (var s = 0; s < seeds.Length; s++)
        {
            var testLabels = splits[s].Test.Select(i => data.Labels[i]).ToArray();
            DataChecks.RequireBothClasses(schema, $"Seed {seeds[s]}: the {testLabels.Length} test rows ({options.TestFraction:G3} of {data.Count})", testLabels.Count(l => l == 0), testLabels.Count(l => l == 1),
                "A test split without both classes cannot judge a model: use more data or a larger --test-fraction.");

            // The training rows as train refuses them: a model of one class was scored (F1 0.5, AUC 0.5), no training
            // row at all was an "Invalid configuration" from the imputer, and a feature with no value imputed as 0.
            var train = data.Select(splits[s].Train);
            DataChecks.RequireBothClasses(schema, $"Seed {seeds[s]}: the {train.Count} training rows (of {data.Count})", train.CountOf(0), train.CountOf(1),
                "Training rows without both classes cannot make a model to judge: use more data, a smaller --test-fraction or the stratified split.");
            if (DataChecks.EmptyFeatures(schema, train, "training rows") is { } empty)
            {
                throw new PipelineException($"Seed {seeds[s]}: {empty}");
            }

            // The search's folds too: a grouped split puts more of a small class in test on some seeds, and such a seed
            // failed after the searches of the seeds before it, its message naming no seed.
            if (options.Training.Mode != "gbdt")
            {
                try
                {
                    GridSearchTrainer.EnoughForFolds(train.Labels, options.IsGroupedSplit ? DuplicateAnalysis.Analyze(train.Features, train.Labels).GroupIds : null, options.Training.CrossValidationFolds);
                }
                catch (PipelineException ex)
                {
                    throw new PipelineException($"Seed {seeds[s]}: {ex.Message}", ex);
                }
            }
        }

        var f1 = new List<double>();
        var phishingF1 = new List<double>();
        var auc = new List<double>();
        var perEngine = new List<(string Engine, double F1, double Auc, double Brier)>();
        var brier = new List<double>();
        for (var s = 0; s < seeds.Length; s++)
        {
            // Between seeds too, so a stop leaves only whole seed folders behind.
            context.CancellationToken.ThrowIfCancellationRequested();
            var seed = seeds[s];
            var step = $"seed {seed} ({s + 1} of {seeds.Length})";
            var done = (double)s / seeds.Length;
            reporter.Report(step, done);
            var clock = Stopwatch.StartNew();
            var split = splits[s];
            var train = data.Select(split.Train);
            var test = data.Select(split.Test);
            if (DataChecks.EmptyTestFeatures(schema, test) is { } emptyInTest)
            {
                // As train warns: the seed's metrics scored the column's imputed values, and nothing said so.
                logger.Warning("Seed {Seed}: {Warning}", seed, emptyInTest);
            }

            var imputer = KnnImputer.Fit(train.Features, options.ImputerNeighbors);
            var trainX = imputer.Transform(train.Features);
            var trainGroups = options.IsGroupedSplit ? DuplicateAnalysis.Analyze(train.Features, train.Labels).GroupIds : null;
            IModelTrainer trainer = options.Training.Mode == "gbdt"
                ? new GradientBoostingTrainer(seed)
                : new GridSearchTrainer(options.Training.GridPath, options.Training.CrossValidationFolds, options.Training.Scoring, seed, options.Training.Learners, options.Training.DropMargin);
            var searchProgress = new SynchronousProgress<double>(f => reporter.Report($"{step}, search", done + (f / seeds.Length)));
            TrainedModel trained;
            if (trainer is GridSearchTrainer)
            {
                // One search per engine on the same folds: the overall choice plus each engine's own best on this split.
                var (best, engines) = EngineComparison.Train(options.Training.GridPath, options.Training.CrossValidationFolds, options.Training.Scoring, seed, options.Training.Learners, trainX, train.Labels, trainGroups, context.CancellationToken);
                trained = best;
                foreach (var engine in engines)
                {
                    var p = ModelEvaluationStage.Predict(engine.Trained.Model, imputer.Transform(test.Features));
                    var m = ModelEvaluationStage.Evaluate(test.Labels, p);
                    perEngine.Add((engine.Engine, m.Legitimate.F1, m.Legitimate.RocAuc, BrierScore.Compute(test.Labels, p)));
                }
            }
            else
            {
                trained = trainer.Train(trainX, train.Labels, trainGroups, searchProgress, context.CancellationToken);
            }

            var probabilities = ModelEvaluationStage.Predict(trained.Model, imputer.Transform(test.Features));
            var metrics = ModelEvaluationStage.Evaluate(test.Labels, probabilities);
            f1.Add(metrics.Legitimate.F1);
            phishingF1.Add(metrics.Phishing.F1);
            auc.Add(metrics.Legitimate.RocAuc);
            brier.Add(BrierScore.Compute(test.Labels, probabilities));
            if (writeSplits is not null)
            {
                SplitWriter.Write(Path.Combine(writeSplits, options.Split, $"seed{seed}"), schema, train, test, probabilities, options.ImputerNeighbors);
            }

            var cv = double.IsFinite(trained.CvScore) ? trained.CvScore.ToString("0.0000", CultureInfo.InvariantCulture) : "—";
            var row = string.Create(CultureInfo.InvariantCulture,
                $"| {seed} | {options.Split} | {trained.Learner} ({ModelTrainingStage.FormatParameters(trained.Parameters)}) | {cv} | {metrics.Legitimate.F1:0.0000} | {metrics.Legitimate.RocAuc:0.0000} | {brier[^1]:0.00000} | {metrics.Phishing.F1:0.0000} | {clock.Elapsed.TotalSeconds:0.0} |");
            table.Add(row);
            logger.Information("Seed {Seed}: test F1 {F1:0.0000}, AUC {Auc:0.0000} ({Learner})", seed, metrics.Legitimate.F1, metrics.Legitimate.RocAuc, trained.Learner);
        }

        reporter.Report("done", 1);
        table.Add(string.Create(CultureInfo.InvariantCulture, $"| mean ± sd | {options.Split} | | | {f1.Average():0.0000} ± {Sd(f1):0.0000} | {auc.Average():0.0000} ± {Sd(auc):0.0000} | {brier.Average():0.00000} ± {Sd(brier):0.00000} | {phishingF1.Average():0.0000} ± {Sd(phishingF1):0.0000} | |"));
        if (perEngine.Count > 0)
        {
            table.Add("");
            table.Add("| engine (its own best by CV, same splits) | split | mean test F1 | mean test AUC | mean Brier |");
            table.Add("|---|---|---|---|---|");
            foreach (var engine in perEngine.GroupBy(e => e.Engine))
            {
                table.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {engine.Key} | {options.Split} | {engine.Average(e => e.F1):0.0000} | {engine.Average(e => e.Auc):0.0000} | {engine.Average(e => e.Brier):0.0000} |"));
            }
        }

        logger.Information("Mean test F1 over seeds {Seeds} ({Split} split): {F1:0.0000}, AUC {Auc:0.0000}, Brier {Brier:0.00000}", string.Join(",", seeds), options.Split, f1.Average(), auc.Average(), brier.Average());
        if (writeSplits is not null)
        {
            // peers.py, not accuracy.sh: that one evaluates the bundled data again into its own folder, not these rows.
            // Debian's interpreter, as accuracy.sh runs it: `python3` is often a pyenv shim without scikit-learn.
            logger.Information("Splits and product probabilities written under {Folder}; compare with the peers on these rows: /usr/bin/python3 scripts/bench/peers.py {Root}",
                Path.Combine(writeSplits, options.Split), Path.GetFullPath(writeSplits));
        }
        return table;
    }

    /// <summary>Sample standard deviation (n - 1), as the peer script reports it.</summary>
    private static double Sd(List<double> values)
    {
        var mean = values.Average();
        return values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
