using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>
/// Scores raw records with a model bundle: columns matched by name or alias (any order), extra columns echoed but not
/// used, missing cells imputed. Every bad cell is reported (up to <see cref="MaxProblems"/>), not only the first.
/// The API and the offline <c>predict</c> command both go through here.
/// </summary>
public sealed class PhishingPredictor(DataSchema schema)
{
    public const int MaxProblems = 100;

    public const string PredictionColumn = "predicted_column";
    public const string ProbabilityColumn = "phishing_probability";
    public const string VerdictColumn = "verdict";

    public DataSchema Schema => schema;

    public PredictionBatch Predict(ModelBundle bundle, RawTable table)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(table);
        var parsed = DatasetParser.Parse(table, schema, requireTarget: false, allowUnknownColumns: true);
        if (parsed.Invalid.Count > 0)
        {
            var problems = parsed.Invalid.SelectMany(i => i.Problems).Take(MaxProblems).ToArray();
            var total = parsed.Invalid.Sum(i => i.Problems.Count);
            throw new PipelineException(
                $"{table.Source}: {total} problem(s) in {parsed.Invalid.Count} record(s); first: {problems[0]}", problems);
        }

        var features = parsed.Valid.Features;
        var probabilities = new double[features.Rows];
        bundle.PredictProbabilities(features, probabilities);

        var rows = new PredictedRecord[features.Rows];
        var phishing = 0;
        for (var i = 0; i < rows.Length; i++)
        {
            // The model gives P(label 1 = legitimate); the verdict threshold is 0.5 on the phishing probability.
            var phishingProbability = 1.0 - probabilities[i];
            var isPhishing = phishingProbability >= 0.5;
            phishing += isPhishing ? 1 : 0;
            rows[i] = new PredictedRecord(
                table.Records[i].Location,
                table.Records[i].Values,
                isPhishing ? schema.Target.NegativeValue : schema.Target.PositiveValue,
                phishingProbability,
                isPhishing);
        }

        return new PredictionBatch(bundle.Version, table.Columns, rows, phishing, rows.Length - phishing);
    }

    /// <summary>Scores one record given as feature name → value (null or NaN = missing). Unknown names are ignored.</summary>
    public double PhishingProbability(ModelBundle bundle, ReadOnlySpan<double> features)
    {
        if (HasNaN(features))
        {
            var matrix = new Learning.Data.FeatureMatrix(features.ToArray(), 1, features.Length);
            Span<double> one = stackalloc double[1];
            bundle.PredictProbabilities(matrix, one);
            return 1.0 - one[0];
        }

        return 1.0 - bundle.Classifier.PredictProbability(features);
    }

    private static bool HasNaN(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (double.IsNaN(v))
            {
                return true;
            }
        }

        return false;
    }
}

public sealed record PredictionBatch(string ModelVersion, IReadOnlyList<string> Columns, IReadOnlyList<PredictedRecord> Rows, int PhishingCount, int LegitimateCount);

/// <summary>One scored record. <paramref name="PredictedClass"/> uses the data set's own encoding (-1 phishing, 1 legitimate).</summary>
public sealed record PredictedRecord(string Location, string?[] Values, int PredictedClass, double PhishingProbability, bool IsPhishing)
{
    public string Verdict => IsPhishing ? "phishing" : "legitimate";
}
