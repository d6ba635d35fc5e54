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
    public static async Task<int> RunAsync(IConfiguration configuration, Serilog.ILogger logger)
    {
        var options = MongoOptions.FromEnvironment(key => configuration[key])
            ?? throw new PipelineException("push-data needs MONGODB_URL (or MONGO_DB_URL): the MongoDB connection string.");
        var file = configuration["PushData:File"] is { Length: > 0 } f
            ? f
            : (configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions()).DataPath;
        var drop = string.Equals(configuration["PushData:drop"], "true", StringComparison.OrdinalIgnoreCase);
        var table = CsvTableReader.ReadFile(file);
        logger.Information("Pushing {Rows} records from {File} to {Database}.{Collection} at {Server}{Drop}",
            table.Records.Count, file, options.Database, options.Collection, options.Redacted, drop ? " (collection dropped first)" : "");
        try
        {
            var result = await MongoDataLoader.PushAsync(options, table, drop, CancellationToken.None).ConfigureAwait(false);
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
