using System.Buffers;
using System.Text.Json;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// POST /predict as JSON, written record by record (the shape of <see cref="PredictionResponse"/>):
/// {"model_version", "count", "phishing", "legitimate", "empty_features", "predictions": [{"row", "values", "predicted_column",
/// "phishing_probability", "verdict"}]}; with ?explain each prediction also has "explanation": {"base_value",
/// "scale", "features": [{"feature", "value", "imputed", "contribution"}]}.
/// </summary>
public static class PredictionJson
{
    private const int RowsPerFlush = 1000;

    /// <param name="echo">false: each prediction leaves out "values" (the input as sent): a compact answer.</param>
    public static async Task WriteAsync(Stream stream, PredictionSummary summary, IEnumerable<PredictedRecord> records, CancellationToken cancellationToken, bool echo = true)
    {
        // The input columns, encoded once; a repeated header name keeps every value (the second "dup" is "dup_2").
        var columns = echo
            ? EchoedColumns.Distinct(summary.Columns).Select((name, c) => (Index: c, Name: JsonEncodedText.Encode(name))).ToArray()
            : [];
        var values = new EncodedValues[columns.Length];
        var prefixes = columns.Select((column, c) => (byte[])[.. (c == 0 ? "{\""u8 : ",\""u8), .. column.Name.EncodedUtf8Bytes, .. "\":"u8]).ToArray();
        var buffer = new ArrayBufferWriter<byte>(1024);
        await using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("model_version", summary.ModelVersion);
        json.WriteNumber("count", summary.Count);
        json.WriteNumber("phishing", summary.PhishingCount);
        json.WriteNumber("legitimate", summary.LegitimateCount);
        json.WriteStartArray("empty_features");
        foreach (var feature in summary.EmptyFeatures)
        {
            json.WriteStringValue(feature);
        }

        json.WriteEndArray();
        json.WriteStartArray("predictions");
        var rows = 0;
        foreach (var row in records)
        {
            json.WriteStartObject();
            json.WriteString("row", row.Location);
            if (echo)
            {
                // Built as bytes from encoded pieces and written raw: the same JSON as writing each property.
                json.WritePropertyName(ValuesProperty);
                json.WriteRawValue(ValuesObject(row.Values, columns, prefixes, values, buffer), skipInputValidation: true);
            }

            json.WriteNumber("predicted_column", row.PredictedClass);
            json.WriteNumber("phishing_probability", DecisionRule.Rounded(row.PhishingProbability, 6));
            json.WriteString("verdict", row.Verdict);
            if (row.Explanation is { } why)
            {
                WriteExplanation(json, why);
            }
            json.WriteEndObject();
            if (++rows % RowsPerFlush == 0)
            {
                await json.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static readonly JsonEncodedText ValuesProperty = JsonEncodedText.Encode("values");

    /// <summary>One record's "values" object: per column its prefix (<c>{"name":</c> or <c>,"name":</c>) and its value.</summary>
    private static ReadOnlySpan<byte> ValuesObject(string?[] cells, (int Index, JsonEncodedText Name)[] columns, byte[][] prefixes, EncodedValues[] values, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        if (columns.Length == 0)
        {
            buffer.Write("{}"u8);
            return buffer.WrittenSpan;
        }

        for (var c = 0; c < columns.Length; c++)
        {
            buffer.Write(prefixes[c]);
            var cell = cells[columns[c].Index];
            if (cell is null)
            {
                buffer.Write("null"u8);
            }
            else if (values[c].TryGet(cell) is { } quoted)
            {
                buffer.Write(quoted);
            }
            else
            {
                buffer.Write("\""u8);
                buffer.Write(JsonEncodedText.Encode(cell).EncodedUtf8Bytes);
                buffer.Write("\""u8);
            }
        }

        buffer.Write("}"u8);
        return buffer.WrittenSpan;
    }

    /// <summary>
    /// The few distinct values of one column ("-1", "0", "1", ""), each JSON-encoded once with its quotes: the
    /// answer then copies bytes instead of escaping and transcoding every cell again. Other values: null.
    /// </summary>
    private struct EncodedValues
    {
        private const int Capacity = 8;
        private string[]? _texts;
        private byte[][]? _quoted;
        private int _count;

        public byte[]? TryGet(string text)
        {
            if (text.Length > 16)
            {
                return null;
            }

            _texts ??= new string[Capacity];
            _quoted ??= new byte[Capacity][];
            for (var i = 0; i < _count; i++)
            {
                if (ReferenceEquals(_texts[i], text) || string.Equals(_texts[i], text, StringComparison.Ordinal))
                {
                    return _quoted[i];
                }
            }

            if (_count == Capacity)
            {
                return null;
            }

            _texts[_count] = text;
            return _quoted[_count++] = [.. "\""u8, .. JsonEncodedText.Encode(text).EncodedUtf8Bytes, .. "\""u8];
        }
    }

    private static void WriteExplanation(Utf8JsonWriter json, VerdictExplanation why)
    {
        json.WriteStartObject("explanation");
        json.WriteNumber("base_value", why.BaseValue);
        json.WriteString("scale", why.Scale);
        json.WriteStartArray("features");
        foreach (var feature in why.Features)
        {
            json.WriteStartObject();
            json.WriteString("feature", feature.Feature);
            json.WriteNumber("value", feature.Value);
            json.WriteBoolean("imputed", feature.Imputed);
            json.WriteNumber("contribution", feature.Contribution);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
