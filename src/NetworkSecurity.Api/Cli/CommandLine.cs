using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline;
using Serilog;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// The offline commands: <c>train</c>, <c>predict</c>, <c>push-data</c>. With no command the program serves the API.
/// Options map onto configuration keys, so anything in appsettings.json can also be set as --Pipeline:Key=value.
/// </summary>
public static class CommandLine
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int UsageError = 2;
    public const int NotPromoted = 3;

    private static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--data"] = "Pipeline:DataPath",
        ["--source"] = "Pipeline:DataSource",
        ["--schema"] = "Pipeline:SchemaPath",
        ["--test-fraction"] = "Pipeline:TestFraction",
        ["--seed"] = "Pipeline:Seed",
        ["--split"] = "Pipeline:Split",
        ["--artifacts"] = "Pipeline:ArtifactsRoot",
        ["--final-model"] = "Pipeline:FinalModelDirectory",
        ["--mode"] = "Pipeline:Training:Mode",
        ["--grid"] = "Pipeline:Training:GridPath",
        ["--folds"] = "Pipeline:Training:CrossValidationFolds",
        ["--scoring"] = "Pipeline:Training:Scoring",
        ["--logs"] = "Logging:Directory",
        ["--input"] = "Predict:Input",
        ["--output"] = "Predict:Output",
        ["--explain"] = "Predict:Explain",
        ["--file"] = "PushData:File",
        ["--seeds"] = "Evaluate:Seeds",
    };

    private static readonly string[] Flags = ["--drop"];

    public static bool IsCommand(string[] args) => args.Length > 0 && !args[0].StartsWith('-') && args[0] is not "serve";

    public static async Task<int> RunAsync(string[] args)
    {
        var command = args[0];
        var options = ExpandFlags(args[1..]);
        if (command is "help" or "--help" or "-h")
        {
            Console.WriteLine(Usage);
            return Success;
        }

        if (options.FirstOrDefault(a => a.StartsWith("--", StringComparison.Ordinal) && !a.Contains('=', StringComparison.Ordinal) && !a.Contains(':', StringComparison.Ordinal) && !Switches.ContainsKey(a) && !a.StartsWith("--Pipeline", StringComparison.Ordinal)) is { } unknown)
        {
            await Console.Error.WriteLineAsync($"Unknown option '{unknown}'.{Environment.NewLine}{Usage}").ConfigureAwait(false);
            return UsageError;
        }

        var configuration = BuildConfiguration(options);
        var logFile = $"{command}_{DateTime.UtcNow:yyyyMMdd_HHmmss}.log";
        await using var logger = (Serilog.Core.Logger)LoggingSetup.CreateLogger(configuration, logFile);
        try
        {
            return command switch
            {
                "train" => await TrainCommand.RunAsync(configuration, logger).ConfigureAwait(false),
                "predict" => await PredictCommand.RunAsync(configuration, logger).ConfigureAwait(false),
                "evaluate" => await EvaluateCommand.RunAsync(configuration, logger).ConfigureAwait(false),
                "push-data" => await PushDataCommand.RunAsync(configuration, logger).ConfigureAwait(false),
                _ => Unknown(command),
            };
        }
        catch (PipelineException ex)
        {
            logger.Error("{Command} failed: {Error}", command, ex.Message);
            return Failed;
        }
        catch (NetworkSecurity.MongoDb.MongoException ex)
        {
            logger.Error("{Command} failed: {Error}", command, ex.Message);
            return Failed;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            logger.Error("Invalid configuration: {Errors}", string.Join("; ", ex.Failures));
            return UsageError;
        }
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"Unknown command '{command}'.{Environment.NewLine}{Usage}");
        return UsageError;
    }

    /// <summary>appsettings.json (next to the program), then NETWORKSECURITY_-free environment variables, then the command line.</summary>
    public static IConfiguration BuildConfiguration(string[] options) =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(options, Switches)
            .Build();

    // "--drop" has no value: give it one so the configuration parser reads it.
    private static string[] ExpandFlags(string[] args) =>
        args.SelectMany(a => Flags.Contains(a) ? [$"--PushData:{a[2..]}=true"] : new[] { a }).ToArray();

    private const string Usage = """
        Usage: dotnet run --project src/NetworkSecurity.Api -- [command] [options]

        Commands:
          (none) | serve          run the web API (http://localhost:8080)
          train                   run the training pipeline once and promote the model if it passes the quality gate
          predict                 score a CSV offline: --input <csv> --output <csv> [--explain N|all]
          evaluate                mean test metrics over several splits: --seeds 0-4 [--split grouped]
          push-data               load a CSV into MongoDB (MONGODB_URL): [--file <csv>] [--drop]
          help                    show this text

        Training options (defaults in appsettings.json):
          --data <csv>            data file (Pipeline:DataPath)
          --source csv|mongodb    data source (Pipeline:DataSource)
          --split stratified|grouped   grouped keeps identical feature vectors on one side of the split
          --test-fraction <f>     test share (0.2)
          --seed <n>              random seed (42)
          --mode search|gbdt      cross-validated search over all learners, or one boosted model
          --folds <k>             cross-validation folds (5)
          --scoring f1|accuracy|roc_auc
          --artifacts <dir>       run outputs (Artifacts)
          --final-model <dir>     live model folder (final_model)
          --logs <dir>|none       log folder (Logs)
          --Section:Key=value     any other configuration key

        Exit codes: 0 success, 1 failure (the message says what and where), 2 usage error, 3 trained but not promoted.
        """;
}
