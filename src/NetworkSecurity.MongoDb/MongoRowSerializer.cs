using System.Globalization;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// One document as a row: where it is (by `_id`), its cells, indexed by the serializer's columns, and why it cannot be
/// read as a row, if so.
/// </summary>
public sealed record MongoRow(string Location, string?[] Cells, string? Problem = null);

/// <summary>
/// Decodes documents straight from BSON into rows of text cells, collecting the field names as columns in
/// first-seen order (one instance per read; the cursor decodes one batch at a time, on one thread).
/// int32, int64, double, decimal128 and strings become their text (numeric strings are parsed by validation, "na" is
/// missing); null, undefined, absent and NaN are missing; any other type (bool, object, array, date, ...) becomes a
/// cell such as "BSON bool: true" that validation rejects with its type, so the document is an invalid row.
/// With <paramref name="keep"/>, other fields are skipped unread.
/// </summary>
public sealed class MongoRowSerializer(Func<string, bool>? keep = null) : SerializerBase<MongoRow>
{
    private static readonly string[] SmallIntegers = [.. Enumerable.Range(-128, 256).Select(i => i.ToString(CultureInfo.InvariantCulture))];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _columns = [];
    private readonly List<long> _present = [];

    public IReadOnlyList<string> Columns => _columns;

    /// <summary>Per column, how many documents hold the field (null included), so a reader can tell which lack it.</summary>
    public IReadOnlyList<long> Present => _present;

    public override MongoRow Deserialize(BsonDeserializationContext context, BsonDeserializationArgs args)
    {
        ArgumentNullException.ThrowIfNull(context);
        var reader = context.Reader;
        reader.ReadStartDocument();
        var location = "document without _id";
        var cells = new string?[_columns.Count];
        var seen = new HashSet<int>();
        string? problem = null;
        while (reader.ReadBsonType() != BsonType.EndOfDocument)
        {
            var name = reader.ReadName(Utf8NameDecoder.Instance);
            if (name == "_id")
            {
                location = "document _id " + IdText(context);
                continue;
            }

            if (!_index.TryGetValue(name, out var column))
            {
                if (keep is not null && !keep(name))
                {
                    reader.SkipValue();
                    continue;
                }

                column = _columns.Count;
                _index[name] = column;
                _columns.Add(name);
                _present.Add(0);
            }

            if (column >= cells.Length)
            {
                Array.Resize(ref cells, _columns.Count);
            }

            var text = CellText(context);
            if (!seen.Add(column))
            {
                // MongoDB stores a document that names a field twice; which value is meant, nobody can tell (the last
                // was taken, silently).
                problem ??= $"the field {name} appears more than once in the document, so its value is ambiguous ({Printable(cells[column])}, {Printable(text)}).";
                continue;
            }

            _present[column]++;
            cells[column] = text;
        }

        reader.ReadEndDocument();
        return new MongoRow(location, cells, problem);
    }

    private static string? CellText(BsonDeserializationContext context)
    {
        var reader = context.Reader;
        switch (reader.CurrentBsonType)
        {
            case BsonType.Int32:
                return Integer(reader.ReadInt32());
            case BsonType.Int64:
                return Integer(reader.ReadInt64());
            case BsonType.Double:
                var number = reader.ReadDouble();
                return double.IsNaN(number) ? null
                    : number == Math.Floor(number) && Math.Abs(number) < 1e15 ? Integer((long)number)
                    : number.ToString("R", CultureInfo.InvariantCulture);
            case BsonType.Decimal128:
                return reader.ReadDecimal128().ToString();
            case BsonType.String:
                var text = reader.ReadString();
                return text switch { "1" => SmallIntegers[129], "0" => SmallIntegers[128], "-1" => SmallIntegers[127], _ => text };
            case BsonType.Null:
                reader.ReadNull();
                return null;
            case BsonType.Undefined:
                reader.ReadUndefined();
                return null;
            default:
                var type = TypeName(reader.CurrentBsonType);
                var value = BsonValueSerializer.Instance.Deserialize(context);
                return $"BSON {type}: {value}";
        }
    }

    // Other types as mongosh writes them (null, NumberLong(5), UUID("…"), ISODate("…")), so the document can be found:
    // BsonValue.ToString gave "BsonNull" and "UuidStandard:0x…".
    private static readonly JsonWriterSettings ShellJson = new() { OutputMode = JsonOutputMode.Shell };

    /// <summary>An _id as the validation report shows it: mongosh's spelling, control characters escaped.</summary>
    public static string Describe(BsonValue id) => id switch
    {
        BsonObjectId objectId => objectId.Value.ToString(),
        BsonString { Value: var text } when !NeedsEscaping(text) => text,
        _ => id.ToJson(ShellJson),
    };

    private static string IdText(BsonDeserializationContext context)
    {
        var reader = context.Reader;
        return reader.CurrentBsonType switch
        {
            BsonType.ObjectId => reader.ReadObjectId().ToString(),
            // Quoted with escapes when it holds a line break or other control character: written raw, "a\n[12:00:00 ERR] …"
            // became a second, forged line of the log and the validation report.
            BsonType.String => reader.ReadString() is var id && NeedsEscaping(id) ? new BsonString(id).ToJson(ShellJson) : id,
            _ => BsonValueSerializer.Instance.Deserialize(context).ToJson(ShellJson),
        };
    }

    // Control characters forge lines; format characters (U+202E and the other bidi controls, zero-width ones) turn a
    // line around or hide text in a terminal; U+2028/U+2029 start a new line in many log viewers.
    private static bool NeedsEscaping(string text) => text.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c)
        is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    private static string Printable(string? cell) => cell is null ? "null" : NetworkSecurity.Pipeline.Data.DatasetParser.Printable(cell.Length <= 40 ? cell : cell[..40] + "…");

    private static string Integer(long value) => value is >= -128 and <= 127 ? SmallIntegers[value + 128] : value.ToString(CultureInfo.InvariantCulture);

    // The names MongoDB's $type operator uses.
    private static string TypeName(BsonType type) => type switch
    {
        BsonType.Boolean => "bool",
        BsonType.Document => "object",
        BsonType.Array => "array",
        BsonType.DateTime => "date",
        BsonType.ObjectId => "objectId",
        BsonType.Binary => "binData",
        BsonType.RegularExpression => "regex",
        BsonType.Timestamp => "timestamp",
        _ => type.ToString(),
    };

    public override void Serialize(BsonSerializationContext context, BsonSerializationArgs args, MongoRow value) =>
        throw new NotSupportedException("Rows are only read.");
}
