using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// Reads a POST /predict/json body, <c>{"records": [{feature name or alias: value, ...}, ...]}</c>, straight from its
/// UTF-8 bytes into feature rows in the schema's order: no document, dictionary or string per value, so a body costs
/// little more than its own bytes plus 30 doubles per record, and the record limit is checked as records are met.
/// Values: -1, 0, 1 (or their strings); null, "", "na" = missing. The target is ignored; any other unknown key is a problem,
/// and so is any top-level property but one "records".
/// </summary>
public sealed class JsonRecordParser
{
    private const int MaxKeyLength = 256;
    private const int MaxCellChars = 64;
    private readonly DataSchema _schema;
    private readonly Dictionary<string, int> _featureIndex = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly double[][] _allowed;
    private readonly string[] _valueHints; // per feature what to send, in the messages: its allowed values or "a number"
    private readonly string _unknownField;
    private readonly int _maxMissing;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _target;
    private readonly byte[]?[] _utf8Names; // per feature its name in UTF-8, when that name means this feature
    private readonly (byte[] Key, int Feature)[][] _keysByLength; // every name and alias in UTF-8, by byte length

    public JsonRecordParser(DataSchema schema, double maxMissingFraction = RecordParser.DefaultMaxMissingFraction)
    {
        _schema = schema;
        for (var f = 0; f < schema.Features.Count; f++)
        {
            _featureIndex[schema.Features[f].Name] = f;
            foreach (var alias in schema.Features[f].Aliases)
            {
                _featureIndex[alias] = f;
            }
        }

        _lookup = _featureIndex.GetAlternateLookup<ReadOnlySpan<char>>();
        _utf8Names = [.. schema.Features.Select((feature, f) => _featureIndex[feature.Name] == f ? Encoding.UTF8.GetBytes(feature.Name) : null)];
        var keys = _featureIndex.Select(entry => (Key: Encoding.UTF8.GetBytes(entry.Key), Feature: entry.Value)).ToArray();
        _keysByLength = [.. Enumerable.Range(0, keys.Max(k => k.Key.Length) + 1).Select(length => keys.Where(k => k.Key.Length == length).ToArray())];
        _target = new HashSet<string>(schema.Target.Aliases.Append(schema.Target.Name), StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _allowed = [.. schema.Features.Select(f => f.AllowedValues.Select(v => (double)v).ToArray())];
        // From the schema, not the bundled one's "30 features" and "-1, 0, 1": another schema's clients were told wrong.
        _valueHints = [.. schema.Features.Select(f => f.AllowedValues.Count > 0 ? $"send {string.Join(", ", f.AllowedValues)} or null" : $"send {(f.WholeNumbers ? "a whole number" : "a number")} or null")];
        _unknownField = $"unknown field: not one of the {schema.Features.Count} features or their aliases ({string.Join(", ", schema.FeatureNames.Take(3))}{(schema.Features.Count > 3 ? ", …" : "")}).";
        _maxMissing = RecordParser.MaxMissing(schema.Features.Count, maxMissingFraction);
    }

    public int FeatureCount => _schema.Features.Count;

    /// <summary>
    /// Parses the whole body. Bad values are collected as problems on the result (record, field, why); a body that is
    /// not JSON, or not shaped as <c>{"records": [objects]}</c>, throws.
    /// </summary>
    /// <exception cref="JsonException">The body is not well-formed JSON.</exception>
    /// <exception cref="PipelineException">The JSON is not shaped as expected.</exception>
    /// <exception cref="InputLimitException">More than <paramref name="maxRecords"/> records.</exception>
    public JsonRecords Parse(ReadOnlySequence<byte> body, int maxRecords)
    {
        // A UTF-8 byte order mark (as some editors and PowerShell write) is not part of the JSON text (RFC 8259 8.1).
        if (body.Length >= 3 && body.FirstSpan.Length >= 3 && body.FirstSpan[..3].SequenceEqual("\uFEFF"u8))
        {
            body = body.Slice(3);
        }

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw Shape("the body must be a JSON object: {\"records\": [ {feature: value, ...}, ... ]}.");
        }

        var records = new JsonRecords(FeatureCount);
        var seen = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Any other key, or "records" twice, would silently drop or merge records (a misspelt "recrods" beside
            // "records"): refused, as unknown fields inside a record are.
            if (!reader.ValueTextEquals("records"u8) && !IsRecordsKey(ref reader))
            {
                // Not valid UTF-8 (or an escaped lone surrogate), the name cannot be read as text: it was a 500.
                var name = TryGetString(ref reader) ?? throw Shape("a property name is not valid UTF-8 text: the body has one property, \"records\".");
                throw Shape($"unknown property '{(name.Length > 100 ? name[..100] + "…" : name)}': the body has one property, \"records\" (options such as explain go in the query string: /predict/json?explain=3).");
            }

            if (seen)
            {
                throw Shape("\"records\" is given more than once: send every record in one array.");
            }

            seen = true;
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw Shape("\"records\" must be an array of objects.");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (records.Count == maxRecords)
                {
                    throw new InputLimitException($"The request has more than {maxRecords:N0} records.");
                }

                ParseRecord(ref reader, records);
            }
        }

        // Anything after the object (a second value, stray text) is a malformed body, not something to ignore: the
        // reader throws a JsonException naming the byte, as for any other syntax error.
        if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
        {
            reader.Read();
        }

        return records;
    }

    /// <summary>
    /// A syntax error for the caller: 1-based line and byte-in-line (the reader counts from 0, as editors do not),
    /// instead of the reader's "LineNumber: 2 | BytePositionInLine: 14" suffix.
    /// </summary>
    public static string Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message;
        var suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (suffix >= 0)
        {
            message = message[..suffix].TrimEnd(' ', '|');
        }

        // The reader's own words for an empty body ("... a valid JSON token, when isFinalBlock is true.") say nothing to
        // a client; its other messages carry the same internal suffix.
        message = message.Contains("does not contain any JSON tokens", StringComparison.Ordinal)
            ? "there is no JSON value: the input is empty or only white space."
            : message.Replace(", when isFinalBlock is true", "", StringComparison.Ordinal);
        return exception.LineNumber is { } line && exception.BytePositionInLine is { } position
            ? $"line {line + 1}, byte {position + 1}: {message}"
            : message;
    }

    private static bool IsRecordsKey(ref Utf8JsonReader reader)
    {
        // Property names are matched without regard to case, as the JSON binder did ("Records" works too).
        if (reader.HasValueSequence || reader.ValueSpan.Length > 16)
        {
            return false;
        }

        Span<char> key = stackalloc char[16];
        var length = CopyKey(ref reader, key);
        return length == 7 && key[..7].Equals("records", StringComparison.OrdinalIgnoreCase);
    }

    private void ParseRecord(ref Utf8JsonReader reader, JsonRecords records)
    {
        var index = records.Count;
        var features = records.Add();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            records.Problem(new DataProblem("request", Location(index), null, null, "the record is not a JSON object of feature: value."));
            features.Fill(double.NaN);
            return;
        }

        features.Fill(double.NegativeInfinity); // marks "not seen"
        Span<char> key = stackalloc char[MaxKeyLength];
        var next = 0; // the feature a record in schema order names next
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var f = ExactKey(ref reader, next);
            if (f < 0)
            {
                var length = (reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) <= MaxKeyLength ? CopyKey(ref reader, key) : -1;
                // Spaces around a name are read past, as in a CSV header (" port " is port).
                var name = length < 0 ? default : ((ReadOnlySpan<char>)key[..length]).Trim();
                if (length < 0 || !_lookup.TryGetValue(name, out f))
                {
                    // The label may come along (a labelled row sent for checking); any other key is a mistake worth naming.
                    if (length < 0 || !_target.Contains(name))
                    {
                        var field = length < 0 ? "(a name longer than any feature, or not valid UTF-8)"
                            : name.IsEmpty ? $"an empty name \"{key[..length]}\""
                            : key[..length].ToString();
                        records.Problem(new DataProblem("request", Location(index), null, field, _unknownField));
                    }

                    reader.Read();
                    reader.Skip();
                    continue;
                }
            }

            if (!double.IsNegativeInfinity(features[f]))
            {
                // Two keys for one feature (a name twice, or a name and its alias): which one was meant is a guess.
                var field = reader.HasValueSequence || reader.ValueSpan.Length > MaxKeyLength ? _schema.Features[f].Name : reader.GetString()!;
                records.Problem(new DataProblem("request", Location(index), null, field, $"the record gives feature {_schema.Features[f].Name} more than once (a name and its aliases count as one)."));
            }

            reader.Read();
            var problems = records.ProblemCount;
            features[f] = IsSmallInteger(ref reader, out var value) ? Check(value, f, index, records) : ReadValue(ref reader, f, index, records);
            if (records.ProblemCount > problems)
            {
                // A value refused is not a value missing: a record of two features, both refused, was also told "2 of 2
                // features are missing" (a CSV's record is not). +Infinity marks it until the end: no value allowed is one.
                features[f] = double.PositiveInfinity;
            }

            next = f + 1;
        }

        var missing = 0;
        for (var f = 0; f < features.Length; f++)
        {
            if (double.IsNegativeInfinity(features[f]))
            {
                records.Problem(new DataProblem("request", Location(index), null, _schema.Features[f].Name, "the feature is missing (send null to have it imputed)."));
                features[f] = double.NaN;
            }
            else if (double.IsPositiveInfinity(features[f]))
            {
                features[f] = double.NaN;
            }
            else if (double.IsNaN(features[f]))
            {
                missing++;
            }
        }

        if (missing > _maxMissing)
        {
            records.Problem(new DataProblem("request", Location(index), null, null, RecordParser.TooManyMissing(missing, features.Length, _maxMissing)));
        }
    }

    // A name or alias spelled exactly (same letters, same case, no escapes), found by its bytes: clients mostly send the
    // features in the schema's order, so the next feature's name is tried first, then the few keys of the same length.
    // -1 when there is none; other spellings go through the case-insensitive dictionary (a UTF-16 copy and a hash).
    private int ExactKey(ref Utf8JsonReader reader, int next)
    {
        if (reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length >= _keysByLength.Length)
        {
            return -1;
        }

        var key = reader.ValueSpan;
        if (next < _utf8Names.Length && _utf8Names[next] is { } expected && key.SequenceEqual(expected))
        {
            return next;
        }

        foreach (var (candidate, feature) in _keysByLength[key.Length])
        {
            if (key.SequenceEqual(candidate))
            {
                return feature;
            }
        }

        return -1;
    }

    // -1, 0 and 1, the values every feature takes, read without the general number parser.
    private static bool IsSmallInteger(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number || reader.HasValueSequence)
        {
            return false;
        }

        var text = reader.ValueSpan;
        if (text.Length == 1 && text[0] is (byte)'0' or (byte)'1')
        {
            value = text[0] - '0';
            return true;
        }

        if (text.Length == 2 && text[0] == '-' && text[1] == '1')
        {
            value = -1;
            return true;
        }

        return false;
    }

    private double ReadValue(ref Utf8JsonReader reader, int f, int index, JsonRecords records)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return double.NaN;
            case JsonTokenType.Number when reader.TryGetDouble(out var number):
                // A number beyond double's range is Infinity to the reader: said as the client wrote it (1e400).
                return Check(number, f, index, records, double.IsFinite(number) ? null : Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan));
            case JsonTokenType.String:
                return ReadString(ref reader, f, index, records);
            default:
                var what = reader.TokenType switch
                {
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    JsonTokenType.StartObject => "an object",
                    JsonTokenType.StartArray => "an array",
                    _ => "the number",
                };
                reader.Skip();
                records.Problem(new DataProblem("request", Location(index), null, _schema.Features[f].Name, $"{what} is not an allowed value ({_valueHints[f]})."));
                return double.NaN;
        }
    }

    private double ReadString(ref Utf8JsonReader reader, int f, int index, JsonRecords records)
    {
        var name = _schema.Features[f].Name;
        Span<char> text = stackalloc char[MaxCellChars];
        int length;
        try
        {
            length = (reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) <= MaxCellChars ? reader.CopyString(text) : -1;
        }
        catch (InvalidOperationException)
        {
            records.Problem(new DataProblem("request", Location(index), null, name, "the string is not valid UTF-8."));
            return double.NaN;
        }

        if (length < 0)
        {
            records.Problem(new DataProblem("request", Location(index), null, name, $"the string is too long to be a value ({_valueHints[f]})."));
            return double.NaN;
        }

        var value = text[..length].Trim();
        if (value.IsEmpty || value.Equals("na", StringComparison.OrdinalIgnoreCase) || value.Equals("nan", StringComparison.OrdinalIgnoreCase)
            || value.Equals("null", StringComparison.OrdinalIgnoreCase) || value.Equals("n/a", StringComparison.OrdinalIgnoreCase))
        {
            return double.NaN;
        }

        // Not past a NUL, which .NET's parser reads past ("1\0" is 1): a CSV cell with one is not a number either.
        if (!value.Contains('\0') && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            return Check(parsed, f, index, records);
        }

        records.Problem(new DataProblem("request", Location(index), null, name, $"\"{Pipeline.Data.DatasetParser.Printable(value.ToString())}\" is not a number."));
        return double.NaN;
    }

    private static string? TryGetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString() ?? "";
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static int CopyKey(scoped ref Utf8JsonReader reader, scoped Span<char> key)
    {
        try
        {
            return reader.CopyString(key);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            return -1; // not valid UTF-8, or longer than any feature name once unescaped
        }
    }

    private double Check(double value, int f, int index, JsonRecords records, string? written = null)
    {
        var allowed = _allowed[f];
        // The allowed values as doubles here, the hot path; without a list the feature's own rule (whole or finite numbers).
        if (allowed.Length == 0 ? _schema.Features[f].Allows(value) : Array.IndexOf(allowed, value) >= 0)
        {
            return value;
        }

        var feature = _schema.Features[f];
        records.Problem(new DataProblem("request", Location(index), null, feature.Name,
            $"{written ?? value.ToString(CultureInfo.InvariantCulture)} is not an allowed value (allowed: {feature.AllowedText})."));
        return double.NaN;
    }

    private static string Location(int index) => $"record {index + 1}";

    private static PipelineException Shape(string message) =>
        new($"The request is not shaped as expected: {message}", [new DataProblem("request", "body", null, null, message)]);
}

/// <summary>Parsed records: feature rows (schema order, NaN = missing) and the problems found, at most <see cref="PhishingPredictor.MaxProblems"/> kept.</summary>
public sealed class JsonRecords(int width)
{
    private double[] _features = new double[width];
    private List<DataProblem>? _problems;
    private int _lastBadRecord = -1;

    public int Count { get; private set; }

    public int Width => width;

    /// <summary>Problems kept (the first <see cref="PhishingPredictor.MaxProblems"/>).</summary>
    public IReadOnlyList<DataProblem> Problems => (IReadOnlyList<DataProblem>?)_problems ?? [];

    public int ProblemCount { get; private set; }

    public int BadRecordCount { get; private set; }

    public ReadOnlySpan<double> Features(int record) => _features.AsSpan(record * width, width);

    /// <summary>
    /// Features missing (null or "na") in every record, in schema order; none for a single record, where a missing
    /// value is the everyday case of imputation rather than a field an export lost.
    /// </summary>
    public IReadOnlyList<int> EmptyFeatures()
    {
        if (Count < 2)
        {
            return [];
        }

        var empty = new List<int>();
        for (var f = 0; f < width; f++)
        {
            var given = false;
            for (var r = 0; r < Count && !given; r++)
            {
                given = !double.IsNaN(_features[(r * width) + f]);
            }

            if (!given)
            {
                empty.Add(f);
            }
        }

        return empty;
    }

    /// <summary>A copy of <paramref name="count"/> records' features from <paramref name="start"/> as one matrix (batch work, such as a chunk of explanations).</summary>
    public FeatureMatrix ToMatrix(int start, int count) => new(_features[(start * width)..((start + count) * width)], count, width);

    internal Span<double> Add()
    {
        if ((Count + 1) * width > _features.Length)
        {
            Array.Resize(ref _features, Math.Max(_features.Length * 2, width));
        }

        return _features.AsSpan(Count++ * width, width);
    }

    internal void Problem(DataProblem problem)
    {
        var record = Count - 1;
        if (record != _lastBadRecord)
        {
            _lastBadRecord = record;
            BadRecordCount++;
        }

        ProblemCount++;
        _problems ??= [];
        if (_problems.Count < PhishingPredictor.MaxProblems)
        {
            _problems.Add(problem);
        }
    }
}
