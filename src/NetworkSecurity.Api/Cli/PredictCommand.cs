using System.CommandLine;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>predict --input in.csv --output out.csv [--explain N|all]</c>: batch scoring with the live model, as the API
/// does it; --explain adds the same why columns as the API's CSV answer.
/// </summary>
public static class PredictCommand
{
    public static Command Create(CliOptions options)
    {
        var command = new Command("predict", "Score a CSV of site records offline with the live model and write each record with its verdict and phishing probability.")
        {
            options.Input, options.Output, options.Explain, options.Schema, options.FinalModel, options.Logs,
        };
        CommandLine.SetBody(command, options, RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context)
    {
        var (configuration, logger) = (context.Configuration, context.Logger);
        var input = Required(configuration, "Predict:Input", "--input");
        var output = Required(configuration, "Predict:Output", "--output");
        var options = (configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions()).ResolveBundledFiles();
        CommandLine.NotInModelStore(output, options.FinalModelDirectory, "--output");
        var outputTarget = CommandLine.OutputFile(output, "--output");
        var schema = SchemaLoader.Load(options.SchemaPath);
        var explainTop = 0;
        if (configuration["Predict:Explain"] is { } explain && !ExplainOption.TryParse(explain, schema.Features.Count, out explainTop, out var explainError))
        {
            throw new UsageException(explainError); // before anything is loaded: a usage error whatever the model
        }

        context.Step.Current = "loading the model";
        var bundle = new ModelStore(options.FinalModelDirectory).LoadCurrent(schema)
            ?? throw new PipelineException($"No model to use: {new ModelStore(options.FinalModelDirectory).NoModelReason()}.");
        // A setting that cannot work, as a pipe here or a folder as train's --data is: a usage error.
        if (Directory.Exists(input))
        {
            throw new UsageException($"Input '{input}' is a folder; give the CSV file to score.");
        }

        if (!File.Exists(input))
        {
            throw new PipelineException($"Input file '{input}' does not exist.");
        }

        // The input is read twice (score, then write): a pipe would be empty the second time, and writing over the
        // input would lose it, and the records with it.
        if (!FileKind.IsRegularFile(input))
        {
            throw new UsageException($"Input '{input}' is not a regular file (a pipe or device): predict reads its input twice; save it to a file first.");
        }

        // Every link along both paths followed: through a linked folder (here/in.csv for in.csv) the paths differed
        // and the verdicts replaced the input.
        if (string.Equals(SafeFile.RealPath(outputTarget), SafeFile.RealPath(input), StringComparison.Ordinal))
        {
            throw new UsageException($"--output '{output}' is the input file; give another path.");
        }

        // Before scoring, not after it: a large input with --explain was scored for minutes and then refused.
        SafeFile.RefuseReadOnly(outputTarget);

        if (explainTop > 0)
        {
            if (VerdictExplainer.TryCreate(bundle, out var reason) is null)
            {
                throw new PipelineException($"Model {bundle.Version} cannot explain its verdicts: {reason}. Run predict without --explain.");
            }
        }

        // Records with more missing features than training allows are invalid here too (Pipeline:MaxMissingFeatureFraction);
        // the bounds of a data file (a header of 50 MB of commas took gigabytes).
        var predictor = new PhishingPredictor(schema, new PredictionLimits(CsvLimits.Files, options.MaxMissingFeatureFraction));
        var summary = await CliProgress.RunAsync("predict", logger, context.ConsoleLevel, async reporter =>
        {
            // Two passes over the input (score, then write): progress is the share of bytes read over both.
            // The second pass pairs each record with the first pass's verdict by position: a file changed in between
            // (rewritten, appended to) would pair verdicts with the wrong records, so it is refused.
            var (size, written) = (new FileInfo(input).Length, File.GetLastWriteTimeUtc(input));
            var length = Math.Max(1, size);
            var pass = 0;
            void RequireUnchanged()
            {
                if (new FileInfo(input).Length != size || File.GetLastWriteTimeUtc(input) != written)
                {
                    throw new PipelineException($"Input '{input}' changed while it was being scored; nothing was written. Score a copy that does not change.");
                }
            }

            TextReader Open()
            {
                if (pass > 0)
                {
                    RequireUnchanged();
                }

                var offset = pass++ * length;
                var step = offset == 0 ? "scoring" : "writing";
                // Read only as far as it reached at the start: a file growing without end was read for as long as it grew.
                var file = new FixedLengthFileStream(input, _ => new PipelineException($"Input '{input}' changed while it was being scored (it grew past the {size:N0} bytes it had when predict started); nothing was written. Score a copy that does not change."), size,
                    read => reporter.Report(step, (offset + read) / (2.0 * length)));
                return new StreamReader(file, detectEncodingFromByteOrderMarks: true);
            }

            PredictionSummary summary;
            try
            {
                // Scores only: the explanations are made as the records are written, a batch at a time, so memory stays
                // bounded (kept for every record until the end, 400,000 distinct records took 1 GB).
                summary = predictor.Score(bundle, Open, input, cancellationToken: context.CancellationToken);
            }
            catch (PipelineException ex) when (ex.Problems.Count > 1 || (ex.Problems.Count == 1 && ex.Message.Contains("; first:", StringComparison.Ordinal)))
            {
                // Every problem found, not only the first: a user fixes the file once, not once per bad record.
                var listed = string.Join(Environment.NewLine, ex.Problems.Select(p => "  " + p));
                var head = ex.Message.Split("; first:")[0];
                throw new PipelineException($"{head}{(ex.Problems.Count == PhishingPredictor.MaxProblems ? $" (the first {PhishingPredictor.MaxProblems} shown)" : "")}; nothing was written:{Environment.NewLine}{listed}", ex.Problems);
            }

            await SafeFile.WriteTextAsync(output, async writer =>
            {
                var records = explainTop > 0 ? predictor.ExplainedRecords(bundle, summary, Open, explainTop, context.CancellationToken) : predictor.Records(summary, Open);
                await PredictionCsvWriter.WriteAsync(writer, summary with { ExplainTop = explainTop }, records, context.CancellationToken).ConfigureAwait(false);
                // Also after the second pass: a change while it read (same records, other values) pairs verdicts wrongly too.
                RequireUnchanged();
            }).ConfigureAwait(false);
            return summary;
        }, context.Step).ConfigureAwait(false);
        if (summary.EmptyFeaturesWarning is { } warning)
        {
            logger.Warning("{Input}: {Warning}", input, warning);
        }

        logger.Information("Scored {Rows} records from {Input} with model {Version}: {Phishing} phishing, {Legitimate} legitimate; wrote {Output}",
            summary.Count, input, summary.ModelVersion, summary.PhishingCount, summary.LegitimateCount, output);
        return CommandLine.Success;
    }

    /// <summary>
    /// The option's value or its key's: the key check takes Predict:Input and Predict:Output in a settings file or as
    /// Predict__Input, but the parser's "Option '--input' is required." refused them when the option was not typed.
    /// </summary>
    private static string Required(IConfiguration configuration, string key, string option) =>
        configuration[key] is { } value && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new UsageException($"Option '{option}' is required (or {key} in a settings file, or the variable {key.Replace(":", "__", StringComparison.Ordinal)}).");
}
