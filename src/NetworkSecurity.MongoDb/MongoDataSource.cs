using System.Globalization;
using System.Text.Json;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// Reads the network data from a MongoDB collection for the ingestion stage. Documents come in batches; `_id` is
/// dropped (and kept as the record's location); fields become columns by name in first-seen order; null, "na" and
/// absent fields are missing values; a field that is an object or array is passed on as its JSON text, so validation
/// reports the document by its `_id` like a bad CSV row.
/// </summary>
public sealed class MongoDataSource(MongoOptions options) : IDataSource
{
    public string Description => $"{options.Redacted.Split('?')[0].TrimEnd('/')}/{options.Database}.{options.Collection}";

    public Task<RawTable> ReadAsync(CancellationToken cancellationToken)
    {
        using var connection = new MongoConnection(options);
        var documents = connection.FindAll(options.BatchSize);
        var columns = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var rows = new List<(string Location, Dictionary<int, string?> Cells)>(documents is ICollection<string> c ? c.Count : 0);
        foreach (var json in documents)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var document = JsonDocument.Parse(json);
            var cells = new Dictionary<int, string?>();
            var location = "document";
            foreach (var field in document.RootElement.EnumerateObject())
            {
                if (field.Name == "_id")
                {
                    location = $"document _id {IdText(field.Value)}";
                    continue;
                }

                if (!index.TryGetValue(field.Name, out var column))
                {
                    column = columns.Count;
                    index[field.Name] = column;
                    columns.Add(field.Name);
                }

                cells[column] = CellText(field.Value);
            }

            rows.Add((location, cells));
        }

        var records = rows.Select(r =>
        {
            var values = new string?[columns.Count];
            foreach (var (column, text) in r.Cells)
            {
                values[column] = text;
            }

            return new RawRecord(r.Location, values);
        }).ToList();
        return Task.FromResult(new RawTable(Description, columns, records));
    }

    private static string IdText(JsonElement id) =>
        id.ValueKind == JsonValueKind.Object && id.TryGetProperty("$oid", out var oid) ? oid.GetString() ?? id.GetRawText() : id.ToString();

    private static string? CellText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "1",
        JsonValueKind.False => "0",
        // Relaxed Extended JSON wraps only special numbers: {"$numberDouble": "NaN"}, {"$numberLong": "…"}.
        JsonValueKind.Object when value.TryGetProperty("$numberDouble", out var d) => d.GetString() is "NaN" ? null : d.GetString(),
        JsonValueKind.Object when value.TryGetProperty("$numberLong", out var l) => l.GetString(),
        JsonValueKind.Object when value.TryGetProperty("$numberInt", out var i) => i.GetString(),
        JsonValueKind.Object when value.TryGetProperty("$numberDecimal", out var m) => m.GetString(),
        _ => value.GetRawText(),
    };
}

/// <summary>
/// The push-data step of the seed product: loads a table (e.g. the bundled CSV) into the collection with insert_many
/// in batches. Numbers are stored as numbers (int32 when integral), missing cells as null. Re-running appends unless
/// <c>drop</c> is set, which empties the collection first (the idempotent mode).
/// </summary>
public static class MongoDataLoader
{
    public sealed record PushResult(long Inserted, long CollectionCount);

    public static Task<PushResult> PushAsync(MongoOptions options, RawTable table, bool drop, CancellationToken cancellationToken)
    {
        using var connection = new MongoConnection(options);
        if (drop)
        {
            connection.Drop();
        }

        var inserted = connection.InsertMany(table.Records.Select(r => ToJson(table.Columns, r)), options.BatchSize);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new PushResult(inserted, connection.Count()));
    }

    private static string ToJson(IReadOnlyList<string> columns, RawRecord record)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            for (var c = 0; c < columns.Count; c++)
            {
                var cell = record.Values[c];
                if (cell is null || Pipeline.Schema.RecordParser.IsMissing(cell))
                {
                    writer.WriteNull(columns[c]);
                }
                else if (int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
                {
                    writer.WriteNumber(columns[c], integer);
                }
                else if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    writer.WriteNumber(columns[c], number);
                }
                else
                {
                    writer.WriteString(columns[c], cell);
                }
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
