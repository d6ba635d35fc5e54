using System.CommandLine;
using NetworkSecurity.Learning.MLNet;
using NetworkSecurity.Learning.MLNet.Onnx;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>export --format onnx [--output model.onnx]</c>: writes the live model as ONNX. An ML.NET model (FastTree,
/// LightGBM) through ML.NET's converter: inputs "Features" (float, n × 30, already imputed) and "Label" (bool, n × 1,
/// any value: ML.NET's graph asks for it), output "Probability.output". Our boosted trees as a TreeEnsembleRegressor +
/// Sigmoid: input "Features", output "Probability". Both files carry their input contract and feature names. Both give
/// P(legitimate), and both take rows already imputed (the KNN imputer is not in either graph). Other model kinds (random forest, CART,
/// AdaBoost, logistic regression) cannot be exported, and the command says so.
/// </summary>
public static class ExportCommand
{
    public static Command Create(CliOptions options)
    {
        var command = new Command("export", "Write the live model as ONNX (boosted trees: ours, FastTree, LightGBM); other model kinds are refused with the reason.")
        {
            options.Format, options.ExportOutput, options.Schema, options.FinalModel, options.Logs,
        };
        CommandLine.SetBody(command, options, context => RunAsync(context.Configuration, context.Logger, context.Step));
        return command;
    }

    private static Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger, CommandStep step)
    {
        var output = configuration["Export:Output"] is { Length: > 0 } path ? path : "model.onnx";
        var options = (configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions()).ResolveBundledFiles();
        CommandLine.NotInModelStore(output, options.FinalModelDirectory, "--output");
        CommandLine.OutputFile(output, "--output");
        var schema = SchemaLoader.Load(options.SchemaPath);
        step.Current = "loading the model";
        var bundle = new ModelStore(options.FinalModelDirectory).LoadCurrent(schema)
            ?? throw new PipelineException($"No model to use: {new ModelStore(options.FinalModelDirectory).NoModelReason()}.");
        step.Current = $"writing {output}";
        if (bundle.Classifier is GradientBoostingModel gbdt)
        {
            SafeFile.Write(output, stream => GradientBoostingOnnx.Write(gbdt, stream, bundle.FeatureNames));
            logger.Information("Exported model {Version} ({Learner}, {Trees} trees) as ONNX to {Output}: input Features (float[n,{Features}], the schema's features in order, already imputed: a missing value is not imputed by the graph), output Probability = P(legitimate)",
                bundle.Version, bundle.Card.Learner, gbdt.Trees.Length, output, gbdt.FeatureCount);
            return Task.FromResult(CommandLine.Success);
        }

        if (bundle.Classifier is not MLNetModel model)
        {
            var kind = bundle.Classifier is IPersistableModel persistable ? persistable.Kind : bundle.Classifier.GetType().Name;
            throw new PipelineException(
                $"The live model {bundle.Version} was trained by '{bundle.Card.Learner}' (model kind {kind}), which cannot be exported as ONNX: " +
                "only boosted trees (gradient_boosting, fasttree, lightgbm) can. Train one (e.g. --mode gbdt or --learners fasttree,lightgbm) and export again.");
        }

        try
        {
            SafeFile.Write(output, stream => model.ExportOnnx(stream, bundle.FeatureNames));
        }
        catch (Exception ex) when (ex is not PipelineException and not IOException and not UnauthorizedAccessException)
        {
            throw new PipelineException($"ML.NET could not convert model {bundle.Version} ({bundle.Card.Learner}) to ONNX: {ex.Message}", ex);
        }

        logger.Information("Exported model {Version} ({Learner}, ML.NET {Trainer}) as ONNX to {Output}: inputs Features (float[n,{Features}], the schema's features in order, already imputed: a missing value is not imputed by the graph) and Label (bool[n,1]), output Probability.output = P(legitimate)",
            bundle.Version, bundle.Card.Learner, model.Trainer, output, model.FeatureCount);
        return Task.FromResult(CommandLine.Success);
    }
}
