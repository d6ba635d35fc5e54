using System.CommandLine;
using NetworkSecurity.MongoDb;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>push-data [--file data.csv] [--drop]</c>: loads a CSV into the MongoDB collection (MONGODB_URL, MONGODB_DATABASE,
/// MONGODB_COLLECTION). With --drop the collection is emptied first, so re-running gives the same collection.
/// </summary>
public static class PushDataCommand
{
    public static Command Create(CliOptions options)
    {
        var command = new Command("push-data", "Load a CSV into the MongoDB collection named by MONGODB_URL, MONGODB_DATABASE and MONGODB_COLLECTION.")
        {
            options.File, options.Drop, options.Logs,
        };
        CommandLine.SetBody(command, options, RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context)
    {
        var (configuration, logger) = (context.Configuration, context.Logger);
        var options = MongoOptions.FromEnvironment(key => configuration[key])
            ?? throw new PipelineException("push-data needs MONGODB_URL (or MONGO_DB_URL): the MongoDB connection string.");
        var file = configuration["PushData:File"] is { Length: > 0 } f
            ? f
            : (configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions()).ResolveBundledFiles().DataPath;
        var drop = string.Equals(configuration["PushData:Drop"], "true", StringComparison.OrdinalIgnoreCase);
        var table = CsvTableReader.ReadFile(file);
        logger.Information("Pushing {Rows} records from {File} to {Database}.{Collection} at {Server}{Drop}",
            table.Records.Count, file, options.Database, options.Collection, options.Redacted, drop ? " (collection dropped first)" : "");
        try
        {
            var result = await MongoDataLoader.PushAsync(options, table, drop, context.CancellationToken).ConfigureAwait(false);
            logger.Information("Inserted {Inserted} documents; the collection now holds {Count}", result.Inserted, result.CollectionCount);
            Console.WriteLine($"Inserted {result.Inserted} documents into {options.Database}.{options.Collection} ({result.CollectionCount} in the collection).");
            return CommandLine.Success;
        }
        catch (MongoException ex)
        {
            throw new PipelineException(ex.Message, ex);
        }
    }
}
