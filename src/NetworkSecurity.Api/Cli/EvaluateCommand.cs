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

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>evaluate --seeds 0-4 [--split grouped]</c>: the honest accuracy figure. For each seed: a fresh 80/20 split,
/// the pipeline's own model selection on the training rows only, then test metrics. Nothing is promoted.
/// </summary>
public static class EvaluateCommand
{
    public static Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger)
    {
        var options = configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions();
        var seeds = ParseSeeds(configuration["Evaluate:Seeds"] ?? "0-4");
        var schema = SchemaLoader.Load(options.SchemaPath);
        var data = DatasetParser.Parse(CsvTableReader.ReadFile(options.DataPath), schema, requireTarget: true, allowUnknownColumns: false).Valid;
        var groups = DuplicateAnalysis.Analyze(data.Features, data.Labels).GroupIds;

        Console.WriteLine($"| seed | split | chosen model | CV {options.Training.Scoring} | test F1 (legitimate) | test AUC | test F1 (phishing) | seconds |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var f1 = new List<double>();
        var auc = new List<double>();
        var perEngine = new List<(string Engine, double F1, double Auc, double Brier)>();
        foreach (var seed in seeds)
        {
            var clock = Stopwatch.StartNew();
            var split = options.IsGroupedSplit
                ? TrainTestSplit.StratifiedGrouped(data.Labels, groups, options.TestFraction, seed)
                : TrainTestSplit.Stratified(data.Labels, options.TestFraction, seed);
            var train = data.Select(split.Train);
            var test = data.Select(split.Test);
            var imputer = KnnImputer.Fit(train.Features, options.ImputerNeighbors);
            var trainX = imputer.Transform(train.Features);
            var trainGroups = options.IsGroupedSplit ? DuplicateAnalysis.Analyze(train.Features, train.Labels).GroupIds : null;
            IModelTrainer trainer = options.Training.Mode == "gbdt"
                ? new GradientBoostingTrainer(seed)
                : new GridSearchTrainer(options.Training.GridPath, options.Training.CrossValidationFolds, options.Training.Scoring, seed, options.Training.Learners);
            TrainedModel trained;
            if (trainer is GridSearchTrainer)
            {
                // One search per engine on the same folds: the overall choice plus each engine's own best on this split.
                var (best, engines) = EngineComparison.Train(options.Training.GridPath, options.Training.CrossValidationFolds, options.Training.Scoring, seed, options.Training.Learners, trainX, train.Labels, trainGroups, CancellationToken.None);
                trained = best;
                foreach (var engine in engines)
                {
                    var p = ModelEvaluationStage.Predict(engine.Trained.Model, imputer.Transform(test.Features));
                    var m = ModelEvaluationStage.Evaluate(test.Labels, p);
                    perEngine.Add((engine.Engine, m.Legitimate.F1, m.Legitimate.RocAuc, EngineComparison.Brier(test.Labels, p)));
                }
            }
            else
            {
                trained = trainer.Train(trainX, train.Labels, trainGroups, null, CancellationToken.None);
            }

            var metrics = ModelEvaluationStage.Evaluate(test.Labels, ModelEvaluationStage.Predict(trained.Model, imputer.Transform(test.Features)));
            f1.Add(metrics.Legitimate.F1);
            auc.Add(metrics.Legitimate.RocAuc);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {seed} | {options.Split} | {trained.Learner} ({ModelTrainingStage.FormatParameters(trained.Parameters)}) | {trained.CvScore:0.0000} | {metrics.Legitimate.F1:0.0000} | {metrics.Legitimate.RocAuc:0.0000} | {metrics.Phishing.F1:0.0000} | {clock.Elapsed.TotalSeconds:0.0} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| mean | {options.Split} | | | {f1.Average():0.0000} | {auc.Average():0.0000} | | |"));
        if (perEngine.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"| engine (its own best by CV, same splits) | split | mean test F1 | mean test AUC | mean Brier |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var engine in perEngine.GroupBy(e => e.Engine))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {engine.Key} | {options.Split} | {engine.Average(e => e.F1):0.0000} | {engine.Average(e => e.Auc):0.0000} | {engine.Average(e => e.Brier):0.0000} |"));
            }
        }

        logger.Information("Mean test F1 over seeds {Seeds} ({Split} split): {F1:0.0000}, AUC {Auc:0.0000}", string.Join(",", seeds), options.Split, f1.Average(), auc.Average());
        return Task.FromResult(CommandLine.Success);
    }

    /// <summary>"0-4" or "1,3,7".</summary>
    public static int[] ParseSeeds(string text)
    {
        try
        {
            if (text.Contains('-', StringComparison.Ordinal) && !text.StartsWith('-'))
            {
                var parts = text.Split('-');
                var from = int.Parse(parts[0], CultureInfo.InvariantCulture);
                var to = int.Parse(parts[1], CultureInfo.InvariantCulture);
                return Enumerable.Range(from, to - from + 1).ToArray();
            }

            return text.Split(',').Select(s => int.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new PipelineException($"--seeds '{text}' is not a range like 0-4 or a list like 1,2,3.");
        }
    }
}
