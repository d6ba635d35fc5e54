using System.CommandLine;
using System.Diagnostics;
using NetworkSecurity.MongoDb;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// <c>push-data [--file data.csv] [--schema schema.yaml] [--drop] [--batch-size n]</c>: loads a CSV into the MongoDB collection (MONGODB_URL,
/// MONGODB_DATABASE, MONGODB_COLLECTION, MONGODB_BATCH_SIZE) with unordered batched inserts. The CSV is checked in a
/// first pass (so a malformed file never leaves a dropped or half-loaded collection), then streamed. With --drop the
/// loaded documents replace the collection's once all are stored (a failed load leaves it as it was), so re-running
/// gives the same collection. Documents the server rejects are listed
/// (record, line, reason) and make the command exit 1 after loading the rest.
/// </summary>
public static class PushDataCommand
{
    public static Command Create(CliOptions options)
    {
        var command = new Command("push-data", "Load a CSV into the MongoDB collection named by MONGODB_URL, MONGODB_DATABASE and MONGODB_COLLECTION (unordered batched inserts; rejected documents are listed and make the exit code 1).")
        {
            // --schema as for train: the file is checked and stored under this schema's names ("Unrecognized
            // argument '--schema'" left a custom schema to --Pipeline:SchemaPath, which the help does not show).
            options.File, options.Schema, options.Drop, options.BatchSize, options.Logs,
        };
        CommandLine.SetBody(command, options, RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context)
    {
        var (configuration, logger) = (context.Configuration, context.Logger);
        var options = MongoOptions.FromEnvironment(key => configuration[key])
            ?? throw new UsageException("MONGODB_URL (or MONGO_DB_URL) is not set: give the MongoDB connection string to load into.");

        var pipeline = (configuration.GetSection(PipelineOptions.SectionName).Get<PipelineOptions>() ?? new PipelineOptions()).ResolveBundledFiles();
        var file = configuration["PushData:File"] is { Length: > 0 } f ? f : pipeline.DataPath;
        var drop = Setting.TryParseSwitch(configuration["PushData:Drop"], out var dropSet) && dropSet;
        if (MongoDataLoader.SettingProblem(options, drop) is { } refused)
        {
            // A setting error like MONGODB_COLLECTION=system.users (exit 2), said before the file is read: a reserved
            // collection name, one too long for --drop's staging collection, or w=0 were exit 1 after the whole check.
            throw new UsageException(refused);
        }

        CsvTableReader.CheckFile(file);
        // Both passes (check, then load) read the file as far as it reached now: rows appended after the check were sent unchecked.
        var length = new FileInfo(file).Length;

        // Checked as training will read it (columns, labels, values) before anything is sent, and above all before
        // --drop replaces a collection that training can use: a file train would refuse is refused here.
        var schema = SchemaLoader.Load(pipeline.SchemaPath);
        context.Step.Current = "checking the file";
        var (total, mapping, invalid, unsent, problems) = Check(file, length, schema, pipeline, context.CancellationToken);
        if (invalid > 0)
        {
            // Within Pipeline:MaxInvalidRowFraction, as training allows: said here too (they went unmentioned, and the
            // malformed ones were left out with "Inserted 997 documents" as the only trace).
            logger.Warning("{Invalid} of {Total} records in {File} are invalid ({Share}; Pipeline:MaxInvalidRowFraction allows {Allowed}): {Unsent} with fields that cannot be matched to the columns are not sent, the others are stored as written and training sets them aside; the first:{Problems}",
                invalid, total, file, DataChecks.Percent((double)invalid / total), DataChecks.Percent(pipeline.MaxInvalidRowFraction), unsent,
                string.Join(Environment.NewLine, problems.Select(p => "  " + p).Prepend("")));
        }

        logger.Information("Pushing {Rows} records from {File} to {Namespace} in batches of {Batch}{Drop}",
            total, file, options.Namespace, options.BatchSize, drop ? " (into a staging collection that then replaces it in one rename: the collection keeps its documents until the load is complete)" : "");
        var clock = Stopwatch.StartNew();
        var stored = 0L;
        var result = await CliProgress.RunAsync("push-data", logger, context.ConsoleLevel, async reporter =>
        {
            using var reader = OpenFixed(file, length);
            var (columns, records) = Canonical(CsvTableReader.Open(reader, file, CsvLimits.Files).Records, mapping, schema);
            var progress = new SynchronousProgress<PushProgress>(p =>
            {
                stored = p.Inserted;
                reporter.Report(
                    $"{p.Read:N0} of {total:N0} records sent, {p.Inserted:N0} stored, {p.Rejected:N0} rejected, {p.Read / Math.Max(1e-3, clock.Elapsed.TotalSeconds):0} documents/s",
                    (double)p.Read / Math.Max(1, total));
            });
            try
            {
                using var loggers = new Serilog.Extensions.Logging.SerilogLoggerFactory(logger);
                return await MongoDataLoader.PushAsync(options, columns, records, drop, progress, context.CancellationToken, loggers.CreateLogger("push-data")).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (context.CancellationToken.IsCancellationRequested)
            {
                // "push-data cancelled" alone left a half-loaded collection unmentioned. With --drop the loader says
                // what became of the staging collection.
                if (drop)
                {
                    logger.Warning("{Message}", ex.Message);
                }
                else if (ex is PushStoppedException inFlight)
                {
                    logger.Warning("push-data was stopped after {Stored:N0} of {Total:N0} records were stored, while records {First}–{Last} were sent but not acknowledged (some or all of them may be stored too): {Namespace} holds a partial load (after the documents it held before); run push-data --drop to load {File} from scratch",
                        inFlight.Stored, total, inFlight.FirstUnacknowledged, inFlight.LastUnacknowledged, options.Namespace, file);
                }
                else if (stored == 0)
                {
                    // Stopped before the first batch was sent (connecting, looking for dead pushes' staging collections):
                    // "holds a partial load" sent the operator to reload a collection nothing had touched.
                    logger.Warning("push-data was stopped before any record was sent: {Namespace} is unchanged", options.Namespace);
                }
                else
                {
                    logger.Warning("push-data was stopped after {Stored:N0} of {Total:N0} records were stored: {Namespace} holds a partial load (after the documents it held before); run push-data --drop to load {File} from scratch",
                        stored, total, options.Namespace, file);
                }

                throw;
            }
            catch (MongoException ex)
            {
                throw new PipelineException(ex.Message, ex);
            }
        }, context.Step).ConfigureAwait(false);

        foreach (var rejected in result.Rejected)
        {
            logger.Warning("Record {Index} ({Location} of {File}) was rejected by the server: {Reason}", rejected.Index, rejected.Location, file, rejected.Reason);
        }

        if (result.RejectedCount > result.Rejected.Count)
        {
            logger.Warning("... and {More} more records were rejected", result.RejectedCount - result.Rejected.Count);
        }

        logger.Information("Inserted {Inserted} documents in {Elapsed:0.000}s ({Rate:0} documents/s), {Rejected} rejected; {Namespace} now holds {Count}",
            result.Inserted, clock.Elapsed.TotalSeconds, result.Inserted / Math.Max(1e-3, clock.Elapsed.TotalSeconds), result.RejectedCount, options.Namespace, result.CollectionCount);
        Console.WriteLine($"Inserted {result.Inserted} documents into {options.Database}.{options.Collection} ({result.CollectionCount} in the collection){(result.RejectedCount > 0 ? $"; {result.RejectedCount} rejected (listed in the log)" : "")}{(unsent > 0 ? $"; {unsent} malformed records of {file} not sent (listed in the log)" : "")}.");
        return result.RejectedCount == 0 ? CommandLine.Success : CommandLine.Failed;
    }

    /// <summary>
    /// The schema's columns under the schema's own names, whatever the file calls them (an alias, another case) and
    /// without the columns training ignores (row numbers, unnamed ones): documents then always have the fields that
    /// training from MongoDB reads, and never two fields of one name.
    /// </summary>
    private static (IReadOnlyList<string> Columns, IEnumerable<RawRecord> Records) Canonical(IEnumerable<RawRecord> records, ColumnMapping mapping, DataSchema schema)
    {
        int[] sources = [.. mapping.FeatureSources, mapping.TargetSource];
        string[] names = [.. schema.Features.Select(f => f.Name), schema.Target.Name];
        // A record whose fields cannot be matched to columns (another number of fields) is not sent: stored, its
        // values would land under the wrong names. Check counted it as invalid, within Pipeline:MaxInvalidRowFraction.
        return (names, records.Where(r => r.Problem is null).Select(r => new RawRecord(r.Location, [.. sources.Select(c => c < r.Values.Length ? r.Values[c] : null)])));
    }

    private static StreamReader OpenFixed(string file, long length) => new(
        new FixedLengthFileStream(file, _ => new PipelineException($"Data file '{file}' grew while it was read (past the {length:N0} bytes it had when push-data started): it is still being written. Give a copy that does not change."), length),
        detectEncodingFromByteOrderMarks: true);

    /// <summary>
    /// Counts the records, after checking each against the schema as training does (label required); returns how the
    /// file's columns map onto the schema.
    /// </summary>
    private static (long Total, ColumnMapping Mapping, long Invalid, long Unsent, IReadOnlyList<DataProblem> Problems) Check(string file, long length, DataSchema schema, PipelineOptions options, CancellationToken cancellationToken)
    {
        using var reader = OpenFixed(file, length);
        var (columns, records, headerLine) = CsvTableReader.Open(reader, file, CsvLimits.Files);
        var mapping = DatasetParser.ResolveColumns(new RawTable(file, columns, [], HeaderLine: headerLine), schema, requireTarget: true, allowUnknownColumns: false);
        var parser = new RecordParser(schema, mapping, file, options.MaxMissingFeatureFraction);
        var features = new double[schema.Features.Count];
        var problems = new List<DataProblem>(); // the first ten, to show
        var found = new List<DataProblem>();
        var (total, invalid, unsent) = (0L, 0L, 0L);
        var perClass = new long[2];
        foreach (var record in records)
        {
            if ((++total & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            found.Clear();
            if (!parser.TryParse(record, features, out var label, found))
            {
                invalid++;
                unsent += record.Problem is null ? 0 : 1; // see Canonical
                problems.AddRange(found.Take(Math.Max(0, 10 - problems.Count)));
            }
            else
            {
                perClass[label]++;
            }
        }

        // Invalid records first: labels 0/1 make every record invalid, and "both classes: got 0 and 0" would hide why.
        DataChecks.RequireFewInvalid($"records in {file}", invalid, total, options.MaxInvalidRowFraction, problems, "nothing was sent");
        DataChecks.RequireBothClasses(schema, $"{file}: the records", perClass[0], perClass[1], "Nothing was sent.");
        return (total, mapping, invalid, unsent, problems);
    }
}
