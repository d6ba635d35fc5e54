using System.Text.Json;
using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// POST /predict as JSON, written record by record (the shape of <see cref="PredictionResponse"/>):
/// {"model_version", "count", "phishing", "legitimate", "predictions": [{"row", "values", "predicted_column",
/// "phishing_probability", "verdict"}]}; with ?explain each prediction also has "explanation": {"base_value",
/// "scale", "features": [{"feature", "value", "imputed", "contribution"}]}.
/// </summary>
public static class PredictionJson
{
    private const int RowsPerFlush = 1000;

    /// <param name="echo">false: each prediction leaves out "values" (the input as sent): a compact answer.</param>
    public static async Task WriteAsync(Stream stream, PredictionSummary summary, IEnumerable<PredictedRecord> records, CancellationToken cancellationToken, bool echo = true)
    {
        // The input columns, encoded once (a repeated header name is written once, its first value kept).
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var columns = echo
            ? Enumerable.Range(0, summary.Columns.Count).Where(c => seen.Add(summary.Columns[c])).Select(c => (Index: c, Name: JsonEncodedText.Encode(summary.Columns[c]))).ToArray()
            : [];
        var values = new EncodedValues[columns.Length];
        await using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteString("model_version", summary.ModelVersion);
        json.WriteNumber("count", summary.Count);
        json.WriteNumber("phishing", summary.PhishingCount);
        json.WriteNumber("legitimate", summary.LegitimateCount);
        json.WriteStartArray("predictions");
        var rows = 0;
        foreach (var row in records)
        {
            json.WriteStartObject();
            json.WriteString("row", row.Location);
            if (echo)
            {
                json.WriteStartObject("values");
                for (var c = 0; c < columns.Length; c++)
                {
                    var (index, name) = columns[c];
                    if (values[c].TryGet(row.Values[index], out var encoded))
                    {
                        json.WriteString(name, encoded);
                    }
                    else
                    {
                        json.WriteString(name, row.Values[index]);
                    }
                }

                json.WriteEndObject();
            }

            json.WriteNumber("predicted_column", row.PredictedClass);
            json.WriteNumber("phishing_probability", Math.Round(row.PhishingProbability, 6));
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

    /// <summary>
    /// The few distinct values of one column ("-1", "0", "1", ""), each JSON-encoded once: the writer then copies
    /// bytes instead of escaping and transcoding every cell again. Other values are written as they come.
    /// </summary>
    private struct EncodedValues
    {
        private const int Capacity = 8;
        private string[]? _texts;
        private JsonEncodedText[]? _encoded;
        private int _count;

        public bool TryGet(string? text, out JsonEncodedText encoded)
        {
            encoded = default;
            if (text is null || text.Length > 16)
            {
                return false;
            }

            _texts ??= new string[Capacity];
            _encoded ??= new JsonEncodedText[Capacity];
            for (var i = 0; i < _count; i++)
            {
                if (ReferenceEquals(_texts[i], text) || string.Equals(_texts[i], text, StringComparison.Ordinal))
                {
                    encoded = _encoded[i];
                    return true;
                }
            }

            if (_count == Capacity)
            {
                return false;
            }

            _texts[_count] = text;
            encoded = _encoded[_count++] = JsonEncodedText.Encode(text);
            return true;
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
