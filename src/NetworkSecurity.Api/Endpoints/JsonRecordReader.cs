using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// Reads <c>{"records": [{feature: value, ...}, ...]}</c> straight from the request's UTF-8 bytes into a feature buffer,
/// one record at a time, with no object per record or field: names and aliases are matched through a frozen,
/// case-insensitive lookup, values checked against the schema's allowed values. Every problem is reported with the
/// record and field it concerns: a missing or unknown field, a value that is not a number or not allowed.
/// Built once from the schema; thread-safe.
/// </summary>
public sealed class JsonRecordReader
{
    private const int MaxNameChars = 256;

    private readonly DataSchema _schema;
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _features;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _ignored;
    private readonly bool[][] _allowed; // per feature, indexed by value + Offset
    private const int Offset = 8;

    public JsonRecordReader(DataSchema schema)
    {
        _schema = schema;
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var f = 0; f < schema.Features.Count; f++)
        {
            index[schema.Features[f].Name] = f;
            foreach (var alias in schema.Features[f].Aliases)
            {
                index[alias] = f;
            }
        }

        _features = index.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        // The label may come along with the record (a labelled row sent back for checking): accepted and not used.
        _ignored = schema.Target.Aliases.Append(schema.Target.Name).ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _allowed = schema.Features.Select(f =>
        {
            var allowed = new bool[2 * Offset + 1];
            foreach (var value in f.AllowedValues.Where(v => v is >= -Offset and <= Offset))
            {
                allowed[value + Offset] = true;
            }

            return f.AllowedValues.Count == 0 ? [] : allowed;
        }).ToArray();
    }

    public int FeatureCount => _schema.Features.Count;

    /// <summary>Called for each record that has no problem, with its features in schema order (NaN = missing).</summary>
    public delegate void RecordHandler<TState>(ref TState state, int index, ReadOnlySpan<double> features);

    /// <summary>
    /// Reads every record, handing each valid one to <paramref name="onRecord"/>. Returns the number of records; stops
    /// with a problem after <paramref name="maxRecords"/>. Malformed JSON (including invalid UTF-8) is one problem.
    /// </summary>
    public int Read<TState>(ReadOnlySequence<byte> json, int maxRecords, List<DataProblem> problems, ref TState state, RecordHandler<TState> onRecord)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
        var count = 0;
        var sawRecords = false;
        Span<double> features = stackalloc double[FeatureCount];
        Span<char> name = stackalloc char[MaxNameChars];
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problems.Add(Problem("body", null, "The body must be a JSON object: {\"records\": [{feature: value, ...}]}."));
                return 0;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("records"u8))
                {
                    reader.Read();
                    reader.Skip(); // other members are ignored
                    continue;
                }

                sawRecords = true;
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    problems.Add(Problem("body", "records", "'records' must be an array of objects."));
                    return 0;
                }

                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (count == maxRecords)
                    {
                        throw new TooManyRecordsException(maxRecords);
                    }

                    var before = problems.Count;
                    ReadRecord(ref reader, count, features, name, problems);
                    if (problems.Count == before)
                    {
                        onRecord(ref state, count, features);
                    }

                    count++;
                }
            }

            if (!sawRecords)
            {
                problems.Add(Problem("body", "records", "Send {\"records\": [{feature: value, ...}]} with at least one record."));
            }
        }
        catch (JsonException ex)
        {
            problems.Add(Problem("body", null, $"The body is not valid JSON: {ex.Message}"));
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonReader reports invalid UTF-8 inside a string this way.
            problems.Add(Problem("body", null, $"The body is not valid UTF-8 JSON: {ex.Message}"));
        }

        return count;
    }

    private void ReadRecord(ref Utf8JsonReader reader, int index, scoped Span<double> features, scoped Span<char> name, List<DataProblem> problems)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            problems.Add(Problem(Location(index), null, "A record must be an object of feature: value."));
            reader.Skip();
            return;
        }

        features.Fill(double.NegativeInfinity); // "not seen"
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var length = reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length > MaxNameChars
                ? -1
                : Encoding.UTF8.GetChars(reader.ValueSpan, name);
            var key = length >= 0 ? name[..length] : reader.GetString().AsSpan();
            reader.Read();
            if (!_features.TryGetValue(key, out var f))
            {
                if (!_ignored.Contains(key))
                {
                    problems.Add(Problem(Location(index), key.ToString(), "unknown field: not one of the 30 features (names and aliases are in data_schema/schema.yaml)."));
                }

                reader.Skip();
                continue;
            }

            features[f] = ReadValue(ref reader, f, index, problems);
        }

        for (var f = 0; f < features.Length; f++)
        {
            if (double.IsNegativeInfinity(features[f]))
            {
                problems.Add(Problem(Location(index), _schema.Features[f].Name, "the feature is missing (send null to have it imputed)."));
            }
        }
    }

    private double ReadValue(ref Utf8JsonReader reader, int f, int index, List<DataProblem> problems)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return double.NaN;
            case JsonTokenType.Number when reader.TryGetDouble(out var number):
                return Check(number, f, index, problems);
            case JsonTokenType.String:
                var text = reader.GetString();
                if (RecordParser.IsMissing(text))
                {
                    return double.NaN;
                }

                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                {
                    return Check(parsed, f, index, problems);
                }

                break;
        }

        var raw = reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray ? reader.TokenType.ToString() : Encoding.UTF8.GetString(reader.ValueSpan);
        reader.Skip();
        problems.Add(Problem(Location(index), _schema.Features[f].Name, $"{Truncate(raw)} is not a number."));
        return double.NaN;
    }

    private double Check(double value, int f, int index, List<DataProblem> problems)
    {
        var allowed = _allowed[f];
        if (allowed.Length == 0 || (value == Math.Floor(value) && value is >= -Offset and <= Offset && allowed[(int)value + Offset]))
        {
            return value;
        }

        var feature = _schema.Features[f];
        problems.Add(Problem(Location(index), feature.Name,
            $"{value.ToString(CultureInfo.InvariantCulture)} is not an allowed value (allowed: {string.Join(", ", feature.AllowedValues)})."));
        return double.NaN;
    }

    private static string Location(int index) => $"record {index + 1}";

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static DataProblem Problem(string location, string? field, string message) => new("request", location, null, field, message);
}
