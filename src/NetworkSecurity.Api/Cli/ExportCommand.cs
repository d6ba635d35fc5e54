using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>export --format onnx [--output model.onnx]</c>: writes the live model as ONNX when ML.NET can convert it (an
/// ML.NET winner: FastTree, LightGBM). Inputs "Features" (float, n × 30, already imputed) and "Label" (bool, n × 1,
/// any value: ML.NET's graph asks for it); output "Probability.output" is P(legitimate). Our own models cannot be
/// exported and the command says so.
/// </summary>
public static class ExportCommand
{
    public static Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger)
    {
        var format = configuration["Export:Format"] ?? "onnx";
        if (!string.Equals(format, "onnx", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"export: format '{format}' is not supported; the only format is onnx.");
            return Task.FromResult(CommandLine.UsageError);
        }

        var output = configuration["Predict:Output"] is { Length: > 0 } path ? path : "model.onnx"; // --output
        var options = configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions();
        var schema = SchemaLoader.Load(options.SchemaPath);
        var bundle = new ModelStore(options.FinalModelDirectory).LoadCurrent(schema)
            ?? throw new PipelineException($"No model in '{options.FinalModelDirectory}': run the train command first.");
        if (bundle.Classifier is not MLNetModel model)
        {
            var kind = bundle.Classifier is IPersistableModel persistable ? persistable.Kind : bundle.Classifier.GetType().Name;
            throw new PipelineException(
                $"The live model {bundle.Version} is our own '{bundle.Card.Learner}' model (kind {kind}), which cannot be exported as ONNX: " +
                "only ML.NET models can. Train one with --learners fasttree,lightgbm (or let one win the search) and export again.");
        }

        try
        {
            SafeFile.Write(output, model.ExportOnnx);
        }
        catch (Exception ex) when (ex is not PipelineException and not IOException and not UnauthorizedAccessException)
        {
            throw new PipelineException($"ML.NET could not convert model {bundle.Version} ({bundle.Card.Learner}) to ONNX: {ex.Message}", ex);
        }

        logger.Information("Exported model {Version} ({Learner}, ML.NET {Trainer}) as ONNX to {Output}: inputs Features (float[n,{Features}]) and Label (bool[n,1]), output Probability.output = P(legitimate)",
            bundle.Version, bundle.Card.Learner, model.Trainer, output, model.FeatureCount);
        return Task.FromResult(CommandLine.Success);
    }
}
