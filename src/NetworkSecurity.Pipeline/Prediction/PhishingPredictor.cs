using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>
/// Scores CSV records with a model bundle: columns matched by name or alias (any order), extra columns echoed but not
/// used, missing cells imputed. Every bad cell is reported (up to <see cref="MaxProblems"/>), not only the first.
/// Works in two passes over the CSV text so a large upload is never held as objects: the first pass scores it in
/// chunks and keeps one probability per record, the second (<see cref="Records"/>) re-reads it while the answer is
/// written. The API and the offline <c>predict</c> command both go through here.
/// </summary>
public sealed class PhishingPredictor(DataSchema schema)
{
    public const int MaxProblems = 100;
    public const string PredictionColumn = "predicted_column";
    public const string ProbabilityColumn = "phishing_probability";
    public const string VerdictColumn = "verdict";
    private const int ChunkRows = 8192;

    public DataSchema Schema => schema;

    /// <summary>First pass: checks and scores every record. Throws <see cref="PipelineException"/> listing the problems.</summary>
    /// <param name="open">Opens the CSV text from the start (called once here and once per <see cref="Records"/>).</param>
    public PredictionSummary Score(ModelBundle bundle, Func<TextReader> open, string source, int maxRows = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(open);
        using var reader = open();
        var (columns, records) = CsvTableReader.Open(reader, source);
        var mapping = DatasetParser.ResolveColumns(new RawTable(source, columns, []), schema, requireTarget: false, allowUnknownColumns: true);
        var parser = new RecordParser(schema, mapping, source);
        var width = schema.Features.Count;
        var chunk = new double[ChunkRows * width];
        var inChunk = 0;
        var probabilities = new List<double>();
        var problems = new List<DataProblem>();
        var rowProblems = new List<DataProblem>();
        var problemCount = 0;
        var badRecords = 0;
        var seen = 0;

        void ScoreChunk()
        {
            if (inChunk == 0)
            {
                return;
            }

            var matrix = new FeatureMatrix(inChunk == ChunkRows ? chunk : chunk[..(inChunk * width)], inChunk, width);
            var legitimate = new double[inChunk];
            bundle.PredictProbabilities(matrix, legitimate);
            foreach (var p in legitimate)
            {
                probabilities.Add(1.0 - p); // the model gives P(legitimate)
            }

            inChunk = 0;
        }

        foreach (var record in records)
        {
            if (++seen > maxRows)
            {
                throw new TooManyRecordsException(maxRows);
            }

            rowProblems.Clear();
            if (!parser.TryParse(record, chunk.AsSpan(inChunk * width, width), out _, rowProblems))
            {
                badRecords++;
                problemCount += rowProblems.Count;
                problems.AddRange(rowProblems.Take(MaxProblems - problems.Count));
                continue;
            }

            if (++inChunk == ChunkRows)
            {
                ScoreChunk();
            }
        }

        if (problemCount > 0)
        {
            throw new PipelineException($"{source}: {problemCount} problem(s) in {badRecords} record(s); first: {problems[0]}", problems);
        }

        ScoreChunk();
        var phishing = probabilities.Count(DecisionRule.IsPhishing);
        return new PredictionSummary(bundle.Version, source, columns, [.. probabilities], phishing, probabilities.Count - phishing);
    }

    /// <summary>Second pass: the records again, each with its verdict, one at a time.</summary>
    public IEnumerable<PredictedRecord> Records(PredictionSummary summary, Func<TextReader> open)
    {
        ArgumentNullException.ThrowIfNull(summary);
        using var reader = open();
        var (_, records) = CsvTableReader.Open(reader, summary.Source);
        var i = 0;
        foreach (var record in records)
        {
            var phishing = summary.PhishingProbabilities[i++];
            var isPhishing = DecisionRule.IsPhishing(phishing);
            yield return new PredictedRecord(record.Location, record.Values, isPhishing ? schema.Target.NegativeValue : schema.Target.PositiveValue, phishing, isPhishing);
        }
    }

    /// <summary>Phishing probability of one record in schema feature order (NaN = missing, imputed).</summary>
    public double PhishingProbability(ModelBundle bundle, ReadOnlySpan<double> features)
    {
        foreach (var v in features)
        {
            if (double.IsNaN(v))
            {
                var matrix = new FeatureMatrix(features.ToArray(), 1, features.Length);
                Span<double> one = stackalloc double[1];
                bundle.PredictProbabilities(matrix, one);
                return 1.0 - one[0];
            }
        }

        return 1.0 - bundle.Classifier.PredictProbability(features);
    }
}

/// <summary>The first pass's result: one phishing probability per record, in order.</summary>
public sealed record PredictionSummary(string ModelVersion, string Source, IReadOnlyList<string> Columns, double[] PhishingProbabilities, int PhishingCount, int LegitimateCount)
{
    public int Count => PhishingProbabilities.Length;
}

/// <summary>One scored record. <paramref name="PredictedClass"/> uses the data set's own encoding (-1 phishing, 1 legitimate).</summary>
public sealed record PredictedRecord(string Location, string?[] Values, int PredictedClass, double PhishingProbability, bool IsPhishing)
{
    public string Verdict => IsPhishing ? "phishing" : "legitimate";
}

/// <summary>More records than the configured limit.</summary>
public sealed class TooManyRecordsException(int limit) : Exception($"The input has more than {limit:N0} records.")
{
    public int Limit { get; } = limit;
}
