using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsvHelper;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Stages;

/// <summary>Stage 4: fits the model (one learner, or a cross-validated search) and writes the leaderboard and model.</summary>
public sealed class ModelTrainingStage(IModelTrainer trainer, ILogger logger)
{
    public TrainedModel Run(ArtifactLayout layout, IngestionResult ingestion, TransformationResult transformed, int[]? groups, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        logger.LogInformation("Training started on {Rows} rows with {Trainer}", transformed.Train.Rows, trainer.GetType().Name);
        var lastLogged = -1;
        var logged = new StageProgress(fraction =>
        {
            progress?.Report(fraction);
            var percent = (int)(fraction * 10) * 10;
            if (percent > lastLogged)
            {
                lastLogged = percent;
                logger.LogInformation("Training progress: {Percent}% ({Elapsed:0.0}s)", percent, clock.Elapsed.TotalSeconds);
            }
        });
        var trained = trainer.Train(transformed.Train, ingestion.Train.Labels, groups, logged, cancellationToken);

        if (trained.Model is MLNetModel mlNet)
        {
            SafeFile.Write(Path.Combine(layout.Trainer, ModelBundle.MLNetModelFileName), mlNet.Save); // ML.NET's own zip
        }
        else
        {
            SafeFile.WriteAllBytes(Path.Combine(layout.Trainer, "model.bin"), ModelSerializer.ToBytes(trained.Model));
        }

        foreach (var failure in trained.Failures ?? [])
        {
            logger.LogWarning("Learner {Learner} ({Engine}, {Parameters}) failed and was left out of the search: {Error}", failure.Learner, failure.Engine, failure.Parameters, failure.Error);
        }

        if (trained.Failures is { Count: > 0 })
        {
            ReportWriter.WriteJson(Path.Combine(layout.Trainer, "failures.json"), trained.Failures);
        }

        // Without cross-validation (gbdt mode) there is no CV score: null, never NaN.
        ReportWriter.WriteJson(Path.Combine(layout.Trainer, "leaderboard.json"), trained.Leaderboard.Select(e => new
        {
            e.Rank, e.Learner, e.Engine, e.Parameters,
            CvMean = double.IsFinite(e.CvMean) ? e.CvMean : (double?)null,
            CvStd = double.IsFinite(e.CvStd) ? e.CvStd : (double?)null,
            e.CvFolds,
            CvF1 = double.IsFinite(e.CvF1) ? e.CvF1 : (double?)null,
            e.FitSeconds,
        }));
        SafeFile.WriteText(Path.Combine(layout.Trainer, "leaderboard.csv"), writer =>
        {
            using var csv = CsvWriter.Create(writer, new CsvWriterOptions(), leaveOpen: true);
            csv.WriteRecord(["rank", "learner", "parameters", "cv_mean", "cv_std", "fit_seconds", "engine", "cv_folds", "cv_f1"]);
            foreach (var e in trained.Leaderboard)
            {
                csv.WriteRecord([
                    e.Rank.ToString(CultureInfo.InvariantCulture), e.Learner, e.Parameters,
                    Finite(e.CvMean), Finite(e.CvStd),
                    e.FitSeconds.ToString("0.0000", CultureInfo.InvariantCulture), e.Engine,
                    e.CvFolds?.ToString(CultureInfo.InvariantCulture) ?? "", Finite(e.CvF1),
                ]);
            }
        });

        if (!double.IsFinite(trained.CvScore))
        {
            // One model, no cross-validation (gbdt mode): no leaderboard to show and no CV score to report.
            logger.LogInformation("Training finished in {Elapsed:0.000}s: fitted {Learner} ({Parameters}) without cross-validation",
                clock.Elapsed.TotalSeconds, trained.Learner, FormatParameters(trained.Parameters));
            return trained;
        }

        logger.LogInformation("Leaderboard ({Scoring}, top {Count} of {Total}):{NewLine}{Table}",
            trained.Scoring, Math.Min(10, trained.Leaderboard.Count), trained.Leaderboard.Count, Environment.NewLine, FormatTable(trained.Leaderboard.Take(10)));
        logger.LogInformation("Training finished in {Elapsed:0.000}s: chose {Learner} ({Parameters}), CV {Scoring} {Score:0.0000} ± {Std:0.0000}, CV F1 {CvF1:0.0000}",
            clock.Elapsed.TotalSeconds, trained.Learner, FormatParameters(trained.Parameters), trained.Scoring, trained.CvScore, trained.CvScoreStd, trained.CvF1);
        return trained;
    }

    private static string Finite(double value) => double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "";

    public static string FormatParameters(IReadOnlyDictionary<string, string> parameters) =>
        string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    private static string FormatTable(IEnumerable<LeaderboardEntry> entries)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"#",3}  {"learner",-20} {"engine",-7} {"cv mean",8} {"cv std",8} {"folds",5} {"cv F1",7} {"fit s",7}  parameters");
        foreach (var e in entries)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{e.Rank,3}  {e.Learner,-20} {e.Engine,-7} {e.CvMean,8:0.0000} {e.CvStd,8:0.0000} {e.CvFolds,5} {e.CvF1,7:0.0000} {e.FitSeconds,7:0.000}  {e.Parameters}");
        }

        return text.ToString().TrimEnd();
    }
}

/// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
public sealed class StageProgress(Action<double> report) : IProgress<double>
{
    private readonly Lock _gate = new();

    public void Report(double value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
