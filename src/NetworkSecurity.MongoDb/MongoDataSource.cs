using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// Reads the network data from a MongoDB collection for the ingestion stage. The collection is streamed through a
/// cursor in <c>_id</c> order, <see cref="MongoOptions.BatchSize"/> documents per round trip, each document decoded straight from BSON
/// into a row of cells (no intermediate document), so memory holds the table and one batch. With
/// <paramref name="fields"/> only those fields are fetched (a projection). `_id` names the record in the validation
/// report; fields become columns by name in first-seen order; see <see cref="MongoRowSerializer"/> for the values.
/// Every failure is a <see cref="PipelineException"/> with a clear message, raised before anything is returned.
/// </summary>
/// <param name="limit">The most documents read (none by default): a collection that holds more is refused before
/// reading when its estimated count says so, and otherwise as soon as one more document arrives.</param>
public sealed class MongoDataSource(MongoOptions options, IReadOnlyCollection<string>? fields = null, ILogger? logger = null, RecordLimit? limit = null) : IDataSource
{
    private readonly RecordLimit _limit = limit ?? RecordLimit.None;

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    // Without a sort, MongoDB returns documents in whatever order it finds them (a sharded cluster merges its shards'
    // answers as they come, a resync or compaction reorders them): the same collection then gave other rows to each
    // split, so another model. _id is always indexed, and push-data's ObjectIds follow the file's order.
    private static readonly SortDefinition<BsonDocument> ById = new BsonDocument("_id", 1);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public string Description => options.Namespace;

    /// <summary>
    /// The fields to fetch for <paramref name="schema"/>: every feature and the target, by name and alias (other fields
    /// never leave the server). MongoDB matches them case-sensitively, so the read adds the spellings a sample
    /// document uses in another case (<c>result</c>), which the schema matches as a CSV header's.
    /// </summary>
    public static IReadOnlyCollection<string> FieldsOf(DataSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return [.. schema.Features.SelectMany(f => f.Aliases.Prepend(f.Name)).Concat(schema.Target.Aliases.Prepend(schema.Target.Name)).Distinct(StringComparer.Ordinal)];
    }

    public async Task<RawTable> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var connection = await MongoConnection.OpenAsync(options, cancellationToken).ConfigureAwait(false);
            return await ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (MongoException ex)
        {
            throw new PipelineException(ex.Message, ex);
        }
    }

    private async Task<RawTable> ReadAsync(MongoConnection connection, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // Cheap (collection metadata): sizes the row list and the progress messages. Best effort: a view has no count.
        var estimated = await connection.RunAsync("count", async t =>
        {
            try
            {
                return await connection.Collection.EstimatedDocumentCountAsync(cancellationToken: t).ConfigureAwait(false);
            }
            catch (MongoCommandException)
            {
                return 0L;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (estimated > _limit.MaxRecords)
        {
            throw _limit.Refuse(Description, $"about {estimated:N0} documents");
        }

        var wanted = fields is { Count: > 0 } ? new HashSet<string>(fields.Select(ColumnMapping.Normalize), StringComparer.OrdinalIgnoreCase) : null;
        Func<string, bool>? keep = wanted is null ? null : name => wanted.Contains(ColumnMapping.Normalize(name));
        // A projection reads "price.usd" as the path price → usd, never the field of that name that push-data stored
        // (and a "$" name not at all): with such names, documents are fetched whole and the fields kept here.
        var projected = fields is { Count: > 0 } && !fields.Any(f => f.Contains('.', StringComparison.Ordinal) || f.StartsWith('$'))
            ? await FieldsToFetchAsync(connection, fields, cancellationToken).ConfigureAwait(false)
            : null;
        var serializer = new MongoRowSerializer(projected is null ? keep : null);
        var rows = await ReadRowsAsync(connection, projected, serializer, estimated, clock, cancellationToken).ConfigureAwait(false);
        if (projected is not null && serializer.Present.Any(p => p < rows.Count))
        {
            // A document without a fetched field may name it in another case or spacing than the first document
            // ("Result" there, "result" here), which the projection left on the server: the value was silently missing
            // (imputed, or "the target value is missing"). Read again with every spelling the schema matches, fetching
            // the documents whole and keeping those fields, so such a document is read as a CSV header would be.
            _logger.LogInformation("Some documents of {Source} lack a field others have: reading again with every spelling of the schema's fields", Description);
            serializer = new MongoRowSerializer(keep);
            rows = await ReadRowsAsync(connection, null, serializer, estimated, clock, cancellationToken).ConfigureAwait(false);
        }

        if (rows.Count == 0)
        {
            var names = await connection.RunAsync("listCollections", async token =>
            {
                using var cursor = await connection.Database.ListCollectionNamesAsync(
                    new ListCollectionNamesOptions { Filter = new BsonDocument("name", options.Collection) }, token).ConfigureAwait(false);
                return await cursor.ToListAsync(token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            throw new PipelineException(names.Count == 0
                ? $"MongoDB collection {options.Database}.{options.Collection} does not exist at {options.Redacted} (check MONGODB_DATABASE and MONGODB_COLLECTION, or load it with push-data)."
                : $"MongoDB collection {options.Database}.{options.Collection} at {options.Redacted} is empty (load it with push-data).");
        }

        var columns = serializer.Columns;
        var records = new RawRecord[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var cells = rows[r].Cells;
            if (cells.Length < columns.Count)
            {
                Array.Resize(ref cells, columns.Count); // a later document brought a new field: absent here
            }

            records[r] = new RawRecord(rows[r].Location, cells, rows[r].Problem);
        }

        _logger.LogInformation("Read {Documents} documents ({Columns} fields) from {Source} in {Elapsed:0.000}s, {Batch} per batch",
            records.Length, columns.Count, Description, clock.Elapsed.TotalSeconds, options.BatchSize);
        return new RawTable(Description, columns, records, Positional: false);
    }

    private async Task<List<MongoRow>> ReadRowsAsync(
        MongoConnection connection, IReadOnlyList<string>? projected, MongoRowSerializer serializer, long estimated, Stopwatch clock, CancellationToken cancellationToken)
    {
        var findOptions = new FindOptions<BsonDocument, MongoRow>
        {
            BatchSize = options.BatchSize,
            Sort = ById,
            Projection = new RowProjection(projected is null ? null : new BsonDocument(projected.Select(f => new BsonElement(f, 1))), serializer),
        };
        var rows = new List<MongoRow>((int)Math.Clamp(estimated, 0, 10_000_000));
        var lastReport = clock.Elapsed;
        await connection.RunAsync("find", async token =>
        {
            using var cursor = await connection.Collection.FindAsync(FilterDefinition<BsonDocument>.Empty, findOptions, token).ConfigureAwait(false);
            while (await cursor.MoveNextAsync(token).ConfigureAwait(false))
            {
                rows.AddRange(cursor.Current);
                if (rows.Count > _limit.MaxRecords)
                {
                    throw _limit.Refuse(Description, $"{rows[_limit.MaxRecords].Location} is document {_limit.MaxRecords + 1L:N0}");
                }

                if (clock.Elapsed - lastReport > ProgressInterval)
                {
                    lastReport = clock.Elapsed;
                    _logger.LogInformation("Read {Documents} of about {Estimated} documents from {Source}", rows.Count, estimated, Description);
                }
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>
    /// <paramref name="wanted"/> plus the fields of the first document that differ from one of them only in case: a CSV
    /// header's <c>result</c> is the target, and a collection's must be too (the projection dropped it, and training
    /// said the target was missing).
    /// </summary>
    private static async Task<IReadOnlyList<string>> FieldsToFetchAsync(MongoConnection connection, IReadOnlyCollection<string> wanted, CancellationToken cancellationToken)
    {
        var sample = await connection.RunAsync("find", async token =>
        {
            // Decoded allowing a field named twice (MongoDB stores such documents): BsonDocument's own decoding threw
            // "Duplicate element name" out of the read; the rows' reading names the document.
            using var cursor = await connection.Collection.FindAsync(FilterDefinition<BsonDocument>.Empty,
                new FindOptions<BsonDocument> { Limit = 1, BatchSize = 1, Sort = ById, Projection = new WholeDocument() }, token).ConfigureAwait(false);
            return await cursor.FirstOrDefaultAsync(token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        var names = new HashSet<string>(wanted.Select(ColumnMapping.Normalize), StringComparer.OrdinalIgnoreCase);
        var exact = new HashSet<string>(wanted, StringComparer.Ordinal);
        var fields = sample?.Names.ToList() ?? [];
        if (sample is not null && NestedHolder(sample, names) is { } nested)
        {
            // Read as they are, every feature is missing: say where they are instead of listing 30 missing columns.
            throw new PipelineException(connection.Options.Mask(
                $"{connection.Options.Namespace}: the first document (_id {MongoRowSerializer.Describe(sample.GetValue("_id", BsonNull.Value))}) holds the schema's fields inside the sub-document '{nested}' ({string.Join(", ", sample[nested].AsBsonDocument.Names.Where(n => names.Contains(ColumnMapping.Normalize(n))).Take(3).Select(n => $"{nested}.{n}"))}, …), not as top-level fields: training reads top-level fields, as push-data stores them. Store the features at the top level of each document."));
        }

        // A near miss ("having IP Address") of a name the document does not hold otherwise is fetched too: as an unknown
        // column it makes the missing feature's error say "'having IP Address' looks like having_IP_Address", as a CSV
        // header's does, where without it the error only said the feature was missing.
        var squashed = new HashSet<string>(wanted.Select(ColumnMapping.Squash).Where(n => n.Length > 0), StringComparer.Ordinal);
        var held = new HashSet<string>(fields.Where(n => names.Contains(ColumnMapping.Normalize(n))).Select(ColumnMapping.Squash), StringComparer.Ordinal);
        bool NearMiss(string name) => ColumnMapping.Squash(name) is var squash && squashed.Contains(squash) && !held.Contains(squash);
        return [.. wanted.Distinct(StringComparer.Ordinal), .. fields.Where(n => !exact.Contains(n) && (names.Contains(ColumnMapping.Normalize(n)) || NearMiss(n))).Distinct(StringComparer.Ordinal)];
    }

    // The sub-document that holds most of the wanted fields, when the document itself holds fewer than half of them.
    private static string? NestedHolder(BsonDocument document, HashSet<string> wanted)
    {
        static int Held(BsonDocument d, HashSet<string> wanted) => d.Names.Count(n => wanted.Contains(ColumnMapping.Normalize(n)));
        var top = Held(document, wanted);
        return document.Elements
            .Where(e => e.Value is BsonDocument && e.Name != "_id")
            .Select(e => (e.Name, Count: Held(e.Value.AsBsonDocument, wanted)))
            .Where(e => e.Count > top && e.Count * 2 >= wanted.Count)
            .OrderByDescending(e => e.Count)
            .Select(e => e.Name)
            .FirstOrDefault();
    }

    /// <summary>No projection; documents decoded with duplicate field names allowed.</summary>
    private sealed class WholeDocument : ProjectionDefinition<BsonDocument, BsonDocument>
    {
        public override RenderedProjectionDefinition<BsonDocument> Render(RenderArgs<BsonDocument> args) => new(null, DuplicatesAllowed.Instance);
    }

    private sealed class DuplicatesAllowed : MongoDB.Bson.Serialization.Serializers.SerializerBase<BsonDocument>
    {
        public static readonly DuplicatesAllowed Instance = new();

        public override BsonDocument Deserialize(MongoDB.Bson.Serialization.BsonDeserializationContext context, MongoDB.Bson.Serialization.BsonDeserializationArgs args) =>
            MongoDB.Bson.Serialization.Serializers.BsonDocumentSerializer.Instance.Deserialize(context.With(b => b.AllowDuplicateElementNames = true), args);
    }

    /// <summary>Sends the projection (or none) and decodes results with the row serializer.</summary>
    private sealed class RowProjection(BsonDocument? projection, MongoRowSerializer serializer) : ProjectionDefinition<BsonDocument, MongoRow>
    {
        public override RenderedProjectionDefinition<MongoRow> Render(RenderArgs<BsonDocument> args) => new(projection, serializer);
    }
}
