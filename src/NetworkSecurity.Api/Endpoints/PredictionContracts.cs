using System.Text.Json;
using System.Text.Json.Serialization;
using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>POST /predict as JSON: every input record with its verdict.</summary>
/// <param name="EmptyFeatures">Features with no value in any record (of two or more): imputed in every one. Also in the
/// X-Empty-Features header, for every format.</param>
public sealed record PredictionResponse(string ModelVersion, int Count, int Phishing, int Legitimate, IReadOnlyList<string> EmptyFeatures, IReadOnlyList<PredictionRow> Predictions);

/// <param name="Row">Where the record was in the upload, e.g. "line 2".</param>
/// <param name="Values">The input columns as sent.</param>
/// <param name="PredictedColumn">The prediction in the data set's encoding: -1 phishing, 1 legitimate.</param>
public sealed record PredictionRow(
    string Row, IReadOnlyDictionary<string, string?> Values, int PredictedColumn, double PhishingProbability, string Verdict,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VerdictExplanation? Explanation = null);

/// <summary>POST /predict/json request: records as feature name → value (-1, 0, 1; null or "na" = missing).</summary>
public sealed record JsonPredictionRequest(IReadOnlyList<Dictionary<string, JsonElement>> Records);

public sealed record JsonPredictionResponse(string ModelVersion, IReadOnlyList<JsonVerdict> Predictions);

/// <param name="Explanation">With ?explain: why, toward phishing (base value + contributions = the score on its scale).</param>
public sealed record JsonVerdict(
    int PredictedColumn, double PhishingProbability, string Verdict,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VerdictExplanation? Explanation = null);
