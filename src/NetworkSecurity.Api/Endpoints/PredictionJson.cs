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
                foreach (var (index, name) in columns)
                {
                    json.WriteString(name, row.Values[index]);
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
