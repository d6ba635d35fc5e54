using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
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
    public static async Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger)
    {
        var input = configuration["Predict:Input"];
        var output = configuration["Predict:Output"];
        if (string.IsNullOrWhiteSpace(input) || string.IsNullOrWhiteSpace(output))
        {
            Console.Error.WriteLine("predict needs --input <csv> and --output <csv>.");
            return CommandLine.UsageError;
        }

        var options = configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions();
        var schema = SchemaLoader.Load(options.SchemaPath);
        var bundle = new ModelStore(options.FinalModelDirectory).LoadCurrent(schema)
            ?? throw new PipelineException($"No model in '{options.FinalModelDirectory}': run the train command first.");
        if (!File.Exists(input))
        {
            throw new PipelineException($"Input file '{input}' does not exist.");
        }

        var explainTop = 0;
        if (configuration["Predict:Explain"] is { } explain)
        {
            if (!ExplainOption.TryParse(explain, bundle.FeatureNames.Count, out explainTop, out var error))
            {
                Console.Error.WriteLine(error);
                return CommandLine.UsageError;
            }

            if (VerdictExplainer.TryCreate(bundle, out var reason) is null)
            {
                throw new PipelineException($"Model {bundle.Version} cannot explain its verdicts: {reason}. Run predict without --explain.");
            }
        }

        TextReader Open() => new StreamReader(input, detectEncodingFromByteOrderMarks: true);
        var predictor = new PhishingPredictor(schema);
        var summary = predictor.Score(bundle, Open, input, explainTop: explainTop);
        await SafeFile.WriteTextAsync(output, writer => PredictionCsvWriter.WriteAsync(writer, summary, predictor.Records(summary, Open), CancellationToken.None)).ConfigureAwait(false);
        logger.Information("Scored {Rows} records from {Input} with model {Version}: {Phishing} phishing, {Legitimate} legitimate; wrote {Output}",
            summary.Count, input, summary.ModelVersion, summary.PhishingCount, summary.LegitimateCount, output);
        return CommandLine.Success;
    }
}
