using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.MongoDb;

/// <summary>A record the server would not store: its position in the input (0-based), its location and why.</summary>
public sealed record RejectedDocument(long Index, string Location, string Reason);

/// <summary>How far a push is: records read from the input, documents stored, documents rejected.</summary>
public sealed record PushProgress(long Read, long Inserted, long Rejected);

/// <summary>
/// The outcome of a push: documents stored, the collection's count afterwards, and the rejected documents (the first
/// <see cref="MongoDataLoader.MaxRejectedListed"/> listed, all counted).
/// </summary>
public sealed record PushResult(long Read, long Inserted, long CollectionCount, long RejectedCount, IReadOnlyList<RejectedDocument> Rejected);

/// <summary>
/// The push-data step of the seed product: loads records (e.g. the bundled CSV) into the collection with unordered
/// InsertMany in batches of <see cref="MongoOptions.BatchSize"/>, so one rejected document neither stops its batch nor
/// the load; rejected ones are reported. Numbers are stored as int32 when integral, else double; missing cells as
/// null. Re-running appends unless <c>drop</c> is set, which replaces the collection's documents (the idempotent mode):
/// the documents go to a staging collection made like the target (its options, such as a validator or collation, and
/// its indexes), which then replaces the target in one renameCollection. A load that fails or is stopped leaves the
/// target as it was and removes the staging collection, where dropping first lost the old documents.
/// </summary>
public static class MongoDataLoader
{
    public const int MaxRejectedListed = 100;

    // Options a collection is created with that the new documents should meet as the old ones did; a view or a time
    // series collection cannot be replaced by renaming, and dropping it for a plain collection would change its kind.
    // A clustered collection's clusteredIndex and expireAfterSeconds (its TTL) are given at create only, as is
    // changeStreamPreAndPostImages here.
    private static readonly string[] KeptOptions = ["validator", "validationLevel", "validationAction", "collation", "capped", "size", "max", "storageEngine", "indexOptionDefaults",
        "clusteredIndex", "expireAfterSeconds", "changeStreamPreAndPostImages"];

    /// <summary>
    /// Why push-data cannot load into <paramref name="options"/>' collection with these settings, or null: a reserved
    /// collection name, one too long for its staging collection (with <paramref name="drop"/>), or a MONGODB_URL asking
    /// for unacknowledged writes (w=0). Told from the settings alone, without connecting (a mongodb+srv:// host is not
    /// resolved), so the command can refuse them as the setting errors they are before it reads its file.
    /// </summary>
    public static string? SettingProblem(MongoOptions options, bool drop)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((StagingLease.ReservedProblem(options) ?? (drop ? StagingLease.NamespaceProblem(options) : null)) is { } problem)
        {
            return problem;
        }

        try
        {
            var parsed = new MongoDB.Driver.Core.Configuration.ConnectionString(options.ConnectionString);
            return new WriteConcern(parsed.W, parsed.WTimeout, parsed.FSync, parsed.Journal).IsAcknowledged ? null : UnacknowledgedWrites(options);
        }
        catch (Exception ex) when (ex is MongoConfigurationException or ArgumentException or FormatException or NotSupportedException)
        {
            return null; // said by MongoConnection.OpenAsync, as an invalid connection string
        }
    }

    private static string UnacknowledgedWrites(MongoOptions options) => options.Mask(
        $"push-data needs acknowledged writes, and MONGODB_URL {options.Redacted} asks for none (w=0): it could not tell which documents the server stored or rejected, nor rename a complete staging collection with --drop. Set w=1 (or more), or remove w=0. Nothing was sent.");

    public static Task<PushResult> PushAsync(MongoOptions options, RawTable table, bool drop, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        return PushAsync(options, table.Columns, table.Records, drop, null, cancellationToken);
    }

    public static async Task<PushResult> PushAsync(
        MongoOptions options, IReadOnlyList<string> columns, IEnumerable<RawRecord> records, bool drop, IProgress<PushProgress>? progress, CancellationToken cancellationToken,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(records);
        logger ??= NullLogger.Instance;
        if (StagingLease.ReservedProblem(options) is { } reserved)
        {
            throw new NetworkSecurity.Pipeline.PipelineException(reserved); // with or without --drop: both write to it
        }

        if (drop && StagingLease.NamespaceProblem(options) is { } tooLong)
        {
            throw new NetworkSecurity.Pipeline.PipelineException(tooLong); // the server's "namespace is too long" came only at create
        }

        using var connection = await MongoConnection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        if (!connection.AcknowledgesWrites)
        {
            // Unacknowledged, rejected documents went unreported ("Inserted 100", the collection holding fewer), and a
            // rename sent on another connection could overtake the staging collection's last inserts.
            throw new MongoException(MongoFailure.InvalidConnectionString, UnacknowledgedWrites(options));
        }

        // Fail early and clearly (unreachable, credentials) before dropping anything.
        await connection.PingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A push killed hard (SIGKILL) left its staging collection for good: the next one removes it.
            await StagingLease.RemoveDeadAsync(connection, logger, cancellationToken).ConfigureAwait(false);
        }
        catch (MongoException ex)
        {
            logger.LogWarning("Could not look for staging collections that dead pushes left in {Namespace} ({Error}): the load goes on", options.Namespace, ex.Message);
        }

        var target = connection.Collection;
        string? staging = null;
        StagingLease? lease = null;
        if (drop)
        {
            staging = StagingLease.NewStagingName(options.Collection);
            // Taken before the collection exists: a staging collection without a live lease is a dead push's.
            lease = await StagingLease.TakeAsync(connection, staging, cancellationToken).ConfigureAwait(false);
            try
            {
                await connection.RunAsync("create", t => CreateLikeTargetAsync(connection, staging, t), cancellationToken).ConfigureAwait(false);
                await lease.PinAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                var failure = await DropQuietlyAsync(connection, staging, lease).ConfigureAwait(false); // made, but its indexes were refused
                await lease.DisposeAsync().ConfigureAwait(false);
                if (ex is OperationCanceledException)
                {
                    // "The operation was canceled." alone did not say that nothing had changed.
                    throw new OperationCanceledException(
                        $"push-data was stopped before any document was sent: {options.Database}.{options.Collection} is unchanged"
                        + (failure is null ? "." : $"; its staging collection {options.Database}.{staging} could not be removed ({options.Mask(failure)}): the next push-data removes it, or drop it by hand."),
                        ex, cancellationToken);
                }

                throw;
            }

            target = connection.Database.GetCollection<BsonDocument>(staging);
        }

        await using var leaseScope = lease;
        using var loading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease?.Lost ?? CancellationToken.None);

        (long Read, long Inserted, long RejectedCount, List<RejectedDocument> Rejected) loaded;
        var renaming = false;
        try
        {
            try
            {
                loaded = await LoadAsync(connection, target, staging, lease, columns, records, progress, loading.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (lease is not null && lease.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                await lease.RenewAsync(cancellationToken).ConfigureAwait(false); // throws the clear error
                throw;
            }

            if (staging is not null && loaded.Inserted == 0 && loaded.Read > 0 && loaded.Rejected is [var first, ..])
            {
                // Renamed, the empty staging collection replaced every document the collection held (its validator,
                // copied from the target, refusing a file of another layout): nothing stored is a failed load.
                throw new MongoException(MongoFailure.Server,
                    $"The server rejected all {loaded.Read} records, so they do not replace the collection's documents (the first, {first.Location}: {first.Reason}).");
            }

            if (lease is not null)
            {
                // Renewed just before the rename, so no other push takes it as dead meanwhile; and one that did (this
                // process frozen past the lease's timeout) removed the staging collection, which the inserts since may have
                // made again, partly: never renamed over the collection.
                await lease.RenewAsync(cancellationToken).ConfigureAwait(false);
            }

            if (staging is not null)
            {
                renaming = true;
                await connection.RunAsync("renameCollection", async t =>
                {
                    await connection.Database.RenameCollectionAsync(staging, options.Collection, new RenameCollectionOptions { DropTarget = true }, t).ConfigureAwait(false);
                    return true;
                }, cancellationToken).ConfigureAwait(false);
                await lease!.ReleaseAsync().ConfigureAwait(false);
            }
        }
        catch (MongoException ex) when (renaming && ex.Failure is MongoFailure.Timeout or MongoFailure.Unreachable)
        {
            // Sent but not answered: the rename may have happened, so neither "unchanged" nor dropping the staging
            // collection (which would then be gone already, or hold the only complete copy) is safe.
            throw new MongoException(ex.Failure, $"{ex.Message} {RenameUnknown(options, staging!)}", ex);
        }
        catch (OperationCanceledException ex) when (renaming)
        {
            // Stopped while the rename was on its way: the server may have renamed already (it did not stop with us), so
            // "unchanged" was a guess, and dropping the staging collection could remove the only complete copy.
            throw new OperationCanceledException($"push-data was stopped while the rename of {options.Database}.{staging} to {options.Collection} was awaited: {RenameUnknown(options, staging!)}", ex, cancellationToken);
        }
        catch (Exception ex) when (staging is not null)
        {
            var note = $"{options.Database}.{options.Collection} is unchanged: the documents went to the staging collection {options.Database}.{staging}, "
                // Also when another push took the lease and removed it: the inserts since may have made it again.
                + (await DropQuietlyAsync(connection, staging, lease!).ConfigureAwait(false) is { } failure
                    ? $"which could not be removed ({options.Mask(failure)}): the next push-data removes it, or drop it by hand."
                    : "which was removed.");
            throw ex switch
            {
                MongoException mongo => new MongoException(mongo.Failure, $"{mongo.Message} {note}", mongo),
                OperationCanceledException => new OperationCanceledException($"push-data was stopped. {note}", ex, cancellationToken),
                // The input's own failures (a file that grew or broke a limit while streamed) stay the expected kind: as an
                // InvalidOperationException the CLI called them unexpected.
                NetworkSecurity.Pipeline.PipelineException or InputLimitException or IOException or UnauthorizedAccessException => new NetworkSecurity.Pipeline.PipelineException($"{ex.Message} {note}", ex),
                _ => new InvalidOperationException($"{ex.Message} {note}", ex),
            };
        }

        long count;
        try
        {
            count = await connection.RunAsync("count", t => connection.Collection.CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex)
        {
            // Stopped with every batch stored (and renamed): "The operation was canceled." alone hid that the load was done.
            throw new OperationCanceledException(
                $"push-data was stopped after the load was complete: {options.Database}.{options.Collection} holds the {loaded.Inserted} documents stored{(drop ? "" : " (after the documents it held before)")}; only the final count was not taken.", ex, cancellationToken);
        }

        return new PushResult(loaded.Read, loaded.Inserted, count, loaded.RejectedCount, loaded.Rejected);
    }

    private static string RenameUnknown(MongoOptions options, string staging) =>
        $"The rename of {options.Database}.{staging} to {options.Collection} was sent but not acknowledged: if {staging} still exists, {options.Database}.{options.Collection} is unchanged and {staging} holds the new documents (rename it yourself before the next push-data, which removes it); otherwise the load is complete.";

    private static async Task<(long Read, long Inserted, long RejectedCount, List<RejectedDocument> Rejected)> LoadAsync(MongoConnection connection, IMongoCollection<BsonDocument> target, string? staging, StagingLease? lease,
        IReadOnlyList<string> columns, IEnumerable<RawRecord> records, IProgress<PushProgress>? progress, CancellationToken cancellationToken)
    {
        var options = connection.Options;
        var insertOptions = new InsertManyOptions { IsOrdered = false };
        var batch = new List<BsonDocument>(options.BatchSize);
        var locations = new string[options.BatchSize];
        var rejected = new List<RejectedDocument>();
        long read = 0, inserted = 0, rejectedCount = 0;

        async Task FlushAsync()
        {
            var first = read - batch.Count;
            try
            {
                await target.InsertManyAsync(batch, insertOptions, cancellationToken).ConfigureAwait(false);
                inserted += batch.Count;
                lease?.NoteStored(inserted);
            }
            catch (MongoBulkWriteException<BsonDocument> ex) when (ex.WriteErrors.Count > 0 && ex.WriteConcernError is null)
            {
                inserted += ex.Result.IsAcknowledged ? ex.Result.InsertedCount : batch.Count - ex.WriteErrors.Count;
                lease?.NoteStored(inserted);
                rejectedCount += ex.WriteErrors.Count;
                foreach (var error in ex.WriteErrors.OrderBy(e => e.Index).Take(MaxRejectedListed - rejected.Count))
                {
                    rejected.Add(new RejectedDocument(first + error.Index, locations[error.Index],
                        options.Mask($"{error.Category} (code {error.Code.ToString(CultureInfo.InvariantCulture)}): {error.Message}")));
                }
            }
            catch (OperationCanceledException ex) when (staging is null)
            {
                // The server does not stop with us: "stopped after 20 of 100 records were stored" while it held 30.
                throw new PushStoppedException(inserted, first, read - 1, ex);
            }
            catch (Exception ex) when (connection.Translate("insert", ex) is { } translated)
            {
                if (staging is not null)
                {
                    throw translated; // the target is unchanged, whatever reached the staging collection
                }

                // A batch sent on a connection that then broke or went silent, or whose write concern failed (w=3 on
                // one node), may have been stored all the same.
                var batchFate = ex is MongoConnectionException or MongoBulkWriteException { WriteConcernError: not null }
                    ? $"records {first}–{read - 1} were sent but not acknowledged, so some or all of them may be stored (push-data --drop loads the file again from scratch)"
                    : $"records {first}–{read - 1} were not";
                throw new MongoException(translated.Failure, $"{translated.Message} ({inserted} documents were stored before, {batchFate}.)", ex);
            }

            batch.Clear();
            progress?.Report(new PushProgress(read, inserted, rejectedCount));
        }

        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            locations[batch.Count] = record.Location;
            // Our own ascending ids: the driver's may wrap and break the file's order that training reads back.
            var document = ToDocument(columns, record);
            document.InsertAt(0, new BsonElement("_id", AscendingObjectIds.Next()));
            batch.Add(document);
            read++;
            if (batch.Count == options.BatchSize)
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }

        if (batch.Count > 0)
        {
            await FlushAsync().ConfigureAwait(false);
        }

        return (read, inserted, rejectedCount, rejected);
    }

    private static async Task<bool> CreateLikeTargetAsync(MongoConnection connection, string staging, CancellationToken cancellationToken)
    {
        var options = connection.Options;
        using var found = await connection.Database.ListCollectionsAsync(new ListCollectionsOptions { Filter = new BsonDocument("name", options.Collection) }, cancellationToken).ConfigureAwait(false);
        var existing = await found.FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        var create = new BsonDocument("create", staging);
        if (existing is not null)
        {
            var kind = existing.GetValue("type", "collection").ToString();
            if (kind != "collection")
            {
                throw new MongoException(MongoFailure.Server, options.Mask(
                    $"{options.Database}.{options.Collection} at {options.Redacted} is a {kind}, not a collection: push-data --drop replaces only collections. Drop it yourself or choose another collection (MONGODB_COLLECTION)."));
            }

            if (existing.GetValue("options", new BsonDocument()) is BsonDocument kept)
            {
                // Any other option (encryptedFields: the staging collection would take the documents unencrypted) was
                // silently lost with the collection it came with: refused before a document is sent.
                if (kept.Names.Where(n => !KeptOptions.Contains(n)).ToList() is { Count: > 0 } lost)
                {
                    throw new MongoException(MongoFailure.Server, options.Mask(
                        $"{options.Database}.{options.Collection} at {options.Redacted} was created with {string.Join(", ", lost)}, which push-data --drop cannot give the collection that replaces it ({string.Join(", ", KeptOptions)} only): it is unchanged. Push without --drop, or recreate the collection yourself."));
                }

                create.AddRange(kept);
            }
        }

        await connection.Database.RunCommandAsync<BsonDocument>(create, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return true;
        }

        using var cursor = await connection.Collection.Indexes.ListAsync(cancellationToken).ConfigureAwait(false);
        var indexes = new BsonArray();
        foreach (var index in await cursor.ToListAsync(cancellationToken).ConfigureAwait(false))
        {
            // A clustered collection's own index (clustered: true) comes with its clusteredIndex option.
            if (index.GetValue("name", "").ToString() != "_id_" && !index.GetValue("clustered", false).ToBoolean())
            {
                index.Remove("v");
                index.Remove("ns");
                indexes.Add(index);
            }
        }

        if (indexes.Count > 0)
        {
            await connection.Database.RunCommandAsync<BsonDocument>(new BsonDocument { ["createIndexes"] = staging, ["indexes"] = indexes }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    // Returns why the staging collection could not be dropped, or null once it is gone. Not cancellable by the caller's
    // token (which may be the cancellation that brought us here), but bounded.
    private static async Task<string?> DropQuietlyAsync(MongoConnection connection, string staging, StagingLease lease)
    {
        using var bound = new CancellationTokenSource(connection.ServerSelectionTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await connection.Database.DropCollectionAsync(staging, bound.Token).ConfigureAwait(false);
            await lease.ReleaseAsync().ConfigureAwait(false); // kept while the collection may be there: the next push removes both
            return null;
        }
        catch (Exception ex) when (ex is MongoDB.Driver.MongoException or TimeoutException or OperationCanceledException)
        {
            return ex is OperationCanceledException ? "the server did not answer in time" : ex.Message;
        }
    }

    public static BsonDocument ToDocument(IReadOnlyList<string> columns, RawRecord record)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(record);
        var document = new BsonDocument(allowDuplicateNames: false);
        for (var c = 0; c < columns.Count; c++)
        {
            var cell = c < record.Values.Length ? record.Values[c] : null;
            BsonValue value = cell is null || RecordParser.IsMissing(cell) ? BsonNull.Value
                : int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer) ? new BsonInt32(integer)
                : double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? new BsonDouble(number)
                : new BsonString(cell);
            document.Add(columns[c], value);
        }

        return document;
    }
}
