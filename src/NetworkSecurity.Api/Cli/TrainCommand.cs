using System.CommandLine;
using System.Globalization;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using Serilog.Extensions.Logging;

namespace NetworkSecurity.Api.Cli;

/// <summary><c>train</c>: one run of the pipeline on the configured data; promotes the model if it passes the quality gate.</summary>
public static class TrainCommand
{
    public static Command Create(CliOptions options)
    {
        var command = new Command("train", "Run the training pipeline once (ingestion, validation, transformation, training, evaluation) and promote the model if it passes the quality gate.");
        foreach (var option in options.Pipeline.Append(options.Artifacts).Append(options.FinalModel).Append(options.Logs))
        {
            command.Add(option);
        }

        CommandLine.SetBody(command, options, RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context)
    {
        var services = new ServiceCollection()
            .AddSingleton(context.Configuration)
            .AddLogging(b => b.ClearProviders().AddProvider(new SerilogLoggerProvider(context.Logger)))
            .AddTrainingPipeline(context.Configuration);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var pipeline = provider.GetRequiredService<TrainingPipeline>();

        var result = await CliProgress.RunAsync("train", context.Logger, context.ConsoleLevel, reporter =>
            pipeline.RunAsync(new SynchronousProgress<PipelineProgress>(p => reporter.Report(p.Stage.ToString(), p.Fraction)), context.CancellationToken), context.Step).ConfigureAwait(false);

        var test = result.Evaluation.Test.Legitimate;
        // No test rows: on purpose (--test-fraction 0), or because the fraction left none of this little data.
        var noTest = provider.GetRequiredService<PipelineOptions>().HasNoHoldout ? "trained on every row (no hold-out)" : "no test rows (the test fraction left none)";
        var cv = double.IsFinite(result.CvF1) ? $"cross-validated F1 {result.CvF1.ToString("0.0000", CultureInfo.InvariantCulture)}" : "no cross-validation";
        Console.WriteLine(result.TestRows > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"Run {result.RunId}: {result.Learner} test F1 {test.F1:0.0000} precision {test.Precision:0.0000} recall {test.Recall:0.0000} accuracy {test.Accuracy:0.0000} AUC {test.RocAuc:0.0000} in {result.Duration.TotalSeconds:0.00}s")
            : string.Create(CultureInfo.InvariantCulture,
                $"Run {result.RunId}: {result.Learner} {noTest}: {cv}, train F1 {result.Evaluation.Train.Legitimate.F1:0.0000} in {result.Duration.TotalSeconds:0.00}s"));
        Console.WriteLine(result.PromotedVersion is null
            ? $"Not promoted: {result.Evaluation.RejectionReason}. Artifacts: {result.ArtifactDirectory}"
            : $"Promoted model {result.PromotedVersion}. Artifacts: {result.ArtifactDirectory}");
        return result.PromotedVersion is null ? CommandLine.NotPromoted : CommandLine.Success;
    }
}

/// <summary>An IProgress that reports on the caller's thread, in order.</summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
