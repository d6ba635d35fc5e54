using System.Globalization;
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
/// null. Re-running appends unless <c>drop</c> is set, which empties the collection first (the idempotent mode).
/// </summary>
public static class MongoDataLoader
{
    public const int MaxRejectedListed = 100;

    public static Task<PushResult> PushAsync(MongoOptions options, RawTable table, bool drop, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        return PushAsync(options, table.Columns, table.Records, drop, null, cancellationToken);
    }

    public static async Task<PushResult> PushAsync(
        MongoOptions options, IReadOnlyList<string> columns, IEnumerable<RawRecord> records, bool drop, IProgress<PushProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(records);
        using var connection = await MongoConnection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        // Fail early and clearly (unreachable, credentials) before dropping anything.
        await connection.PingAsync(cancellationToken).ConfigureAwait(false);
        if (drop)
        {
            await connection.RunAsync("drop", async t =>
            {
                await connection.Database.DropCollectionAsync(options.Collection, t).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }

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
                await connection.Collection.InsertManyAsync(batch, insertOptions, cancellationToken).ConfigureAwait(false);
                inserted += batch.Count;
            }
            catch (MongoBulkWriteException<BsonDocument> ex) when (ex.WriteErrors.Count > 0 && ex.WriteConcernError is null)
            {
                inserted += ex.Result.IsAcknowledged ? ex.Result.InsertedCount : batch.Count - ex.WriteErrors.Count;
                rejectedCount += ex.WriteErrors.Count;
                foreach (var error in ex.WriteErrors.OrderBy(e => e.Index).Take(MaxRejectedListed - rejected.Count))
                {
                    rejected.Add(new RejectedDocument(first + error.Index, locations[error.Index],
                        options.Mask($"{error.Category} (code {error.Code.ToString(CultureInfo.InvariantCulture)}): {error.Message}")));
                }
            }
            catch (Exception ex) when (connection.Translate("insert", ex) is { } translated)
            {
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
            batch.Add(ToDocument(columns, record));
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

        var count = await connection.RunAsync("count", t => connection.Collection.CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return new PushResult(read, inserted, count, rejectedCount, rejected);
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
