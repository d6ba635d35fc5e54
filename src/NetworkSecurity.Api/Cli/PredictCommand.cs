using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Cli;

/// <summary><c>predict --input in.csv --output out.csv</c>: batch scoring with the live model, as the API does it.</summary>
public static class PredictCommand
{
    public static Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger)
    {
        var input = configuration["Predict:Input"];
        var output = configuration["Predict:Output"];
        if (string.IsNullOrWhiteSpace(input) || string.IsNullOrWhiteSpace(output))
        {
            Console.Error.WriteLine("predict needs --input <csv> and --output <csv>.");
            return Task.FromResult(CommandLine.UsageError);
        }

        var options = configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions();
        var schema = SchemaLoader.Load(options.SchemaPath);
        var bundle = new ModelStore(options.FinalModelDirectory).LoadCurrent(schema)
            ?? throw new PipelineException($"No model in '{options.FinalModelDirectory}': run the train command first.");
        var table = CsvTableReader.ReadFile(input);
        var batch = new PhishingPredictor(schema).Predict(bundle, table);
        SafeFile.WriteText(output, writer => PredictionCsvWriter.Write(writer, batch));
        logger.Information("Scored {Rows} records from {Input} with model {Version}: {Phishing} phishing, {Legitimate} legitimate; wrote {Output}",
            batch.Rows.Count, input, batch.ModelVersion, batch.PhishingCount, batch.LegitimateCount, output);
        return Task.FromResult(CommandLine.Success);
    }
}
