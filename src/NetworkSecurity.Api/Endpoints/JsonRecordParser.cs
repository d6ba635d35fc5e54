using System.Globalization;
using System.Text.Json;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// Maps JSON records (feature name or alias → value) onto the schema's feature order, checking values.
/// Built once from the schema; parsing a record does not allocate beyond the problems it reports.
/// </summary>
public sealed class JsonRecordParser
{
    private readonly DataSchema _schema;
    private readonly Dictionary<string, int> _featureIndex = new(StringComparer.OrdinalIgnoreCase);

    public JsonRecordParser(DataSchema schema)
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
    }

    /// <summary>Fills <paramref name="features"/>; unknown keys (and the target) are ignored; absent features are reported.</summary>
    public void Parse(Dictionary<string, JsonElement> record, int index, Span<double> features, List<DataProblem> problems)
    {
        features.Fill(double.NegativeInfinity); // marks "not seen"
        var location = $"record {index + 1}";
        foreach (var (key, element) in record)
        {
            if (!_featureIndex.TryGetValue(key, out var f))
            {
                continue;
            }

            var feature = _schema.Features[f];
            switch (element.ValueKind)
            {
                case JsonValueKind.Null:
                    features[f] = double.NaN;
                    break;
                case JsonValueKind.Number when element.TryGetDouble(out var number):
                    features[f] = Check(number, feature, location, problems);
                    break;
                case JsonValueKind.String when RecordParser.IsMissing(element.GetString()):
                    features[f] = double.NaN;
                    break;
                case JsonValueKind.String when double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                    features[f] = Check(parsed, feature, location, problems);
                    break;
                default:
                    problems.Add(new DataProblem("request", location, null, feature.Name, $"{element.GetRawText()} is not a number."));
                    features[f] = double.NaN;
                    break;
            }
        }

        for (var f = 0; f < features.Length; f++)
        {
            if (double.IsNegativeInfinity(features[f]))
            {
                problems.Add(new DataProblem("request", location, null, _schema.Features[f].Name, "the feature is missing (send null to have it imputed)."));
                features[f] = double.NaN;
            }
        }
    }

    private static double Check(double value, FeatureColumn feature, string location, List<DataProblem> problems)
    {
        if (feature.Allows(value))
        {
            return value;
        }

        problems.Add(new DataProblem("request", location, null, feature.Name,
            $"{value.ToString(CultureInfo.InvariantCulture)} is not an allowed value (allowed: {string.Join(", ", feature.AllowedValues)})."));
        return double.NaN;
    }
}
