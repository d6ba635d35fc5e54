using System.Globalization;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline;
using Serilog.Extensions.Logging;

namespace NetworkSecurity.Api.Cli;

/// <summary><c>train</c>: one run of the pipeline on the configured data.</summary>
public static class TrainCommand
{
    public static async Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger)
    {
        var services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddLogging(b => b.ClearProviders().AddProvider(new SerilogLoggerProvider(logger)))
            .AddTrainingPipeline(configuration);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var pipeline = provider.GetRequiredService<TrainingPipeline>();

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        var lastStage = PipelineStage.Queued;
        var progress = new SynchronousProgress<PipelineProgress>(p =>
        {
            if (p.Stage != lastStage)
            {
                lastStage = p.Stage;
                logger.Debug("Stage {Stage} ({Percent:0}%)", p.Stage, p.Fraction * 100);
            }
        });
        var result = await pipeline.RunAsync(progress, cancellation.Token).ConfigureAwait(false);

        var test = result.Evaluation.Test.Legitimate;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Run {result.RunId}: {result.Learner} test F1 {test.F1:0.0000} precision {test.Precision:0.0000} recall {test.Recall:0.0000} accuracy {test.Accuracy:0.0000} AUC {test.RocAuc:0.0000} in {result.Duration.TotalSeconds:0.00}s"));
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
