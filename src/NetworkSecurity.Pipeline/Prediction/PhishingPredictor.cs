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
/// written. The API and the offline <c>predict</c> command both go through here. Limits (<see cref="PredictionLimits"/>)
/// are enforced while reading, and scoring stops when the cancellation token fires.
/// </summary>
public sealed class PhishingPredictor(DataSchema schema, PredictionLimits? limits = null)
{
    private readonly PredictionLimits _limits = limits ?? PredictionLimits.Default;

    public const int MaxProblems = 100;
    public const string PredictionColumn = "predicted_column";
    public const string ProbabilityColumn = "phishing_probability";
    public const string VerdictColumn = "verdict";
    /// <summary>Records scored (and explained, and their explanations offered to Score's keep) at a time.</summary>
    public const int ChunkRows = 8192;

    public DataSchema Schema => schema;


    public PredictionLimits Limits => _limits;

    /// <summary>First pass: checks and scores every record. Throws <see cref="PipelineException"/> listing the problems.</summary>
    /// <param name="open">Opens the CSV text from the start (called once here and once per <see cref="Records"/>).</param>
    /// <param name="explainTop">0: no explanations (no extra cost); else the top features to explain per record. The
    /// model must be able to explain (check with <see cref="VerdictExplainer.TryCreate(ModelBundle, out string)"/>).</param>
    /// <param name="maxExplainedRows">With explanations, the most records: each one's explanation is kept for the answer.</param>
    /// <exception cref="TooManyRecordsException">More than <paramref name="maxRows"/> records (found while reading).</exception>
    /// <exception cref="InputLimitException">A CSV size limit was crossed, or more than <paramref name="maxExplainedRows"/> records to explain.</exception>
    /// <param name="keep">With explanations, asked whether each chunk's explanations, just made, may be kept beside the
    /// ones before; false stops scoring there.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    /// <exception cref="ExplanationsNotKeptException"><paramref name="keep"/> answered false.</exception>
    public PredictionSummary Score(ModelBundle bundle, Func<TextReader> open, string source, int maxRows = int.MaxValue, CancellationToken cancellationToken = default, int explainTop = 0, int maxExplainedRows = int.MaxValue,
        Func<IReadOnlyList<VerdictExplanation>, bool>? keep = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(open);
        VerdictExplainer? explainer = null;
        if (explainTop > 0)
        {
            explainer = VerdictExplainer.TryCreate(bundle, out var reason)
                ?? throw new InvalidOperationException($"Model {bundle.Version} cannot explain its verdicts: {reason}.");
        }

        var explanations = explainer is null ? null : new List<VerdictExplanation>();
        using var reader = open();
        var (columns, records, headerLine) = CsvTableReader.Open(reader, source, _limits.Csv);
        var mapping = DatasetParser.ResolveColumns(new RawTable(source, columns, [], HeaderLine: headerLine), schema, requireTarget: false, allowUnknownColumns: true);
        // A label column (Result, or an alias such as 'label') is echoed like any extra column: scoring never reads it.
        var parser = new RecordParser(schema, mapping, source, _limits.MaxMissingFraction, readLabel: false);
        var width = schema.Features.Count;
        // Two chunk buffers: while one is imputed and scored on the thread pool, the next is parsed here.
        var chunk = new double[ChunkRows * width];
        var spare = new double[ChunkRows * width];
        var inChunk = 0;
        var probabilities = new List<double>();
        var problems = new List<DataProblem>();
        var rowProblems = new List<DataProblem>();
        var problemCount = 0;
        var badRecords = 0;
        var seen = 0;
        // Features with no value in any record so far: a column left empty throughout (an export that lost it) is
        // imputed in every record, which is worth saying once for the whole input.
        var neverGiven = new bool[width];
        Array.Fill(neverGiven, true);
        var neverGivenCount = width;
        Task? scoring = null;

        void ScoreRows(double[] values, int count)
        {
            var matrix = new FeatureMatrix(count == ChunkRows ? values : values[..(count * width)], count, width);
            var legitimate = new double[count];
            if (explainer is null)
            {
                bundle.PredictProbabilities(matrix, legitimate, cancellationToken);
            }
            else
            {
                var complete = bundle.Complete(matrix, cancellationToken);
                bundle.Classifier.PredictProbabilities(complete, legitimate);
                var made = explainer.ExplainAll(matrix, complete, explainTop, cancellationToken);
                explanations!.AddRange(made);
                if (keep is not null && !keep(made))
                {
                    throw new ExplanationsNotKeptException(explanations.Count);
                }
            }

            foreach (var p in legitimate)
            {
                probabilities.Add(1.0 - p); // the model gives P(legitimate)
            }
        }

        // Waits for the chunk being scored; its exception (cancellation included) surfaces here, unwrapped.
        void FinishScoring()
        {
            var running = scoring;
            scoring = null;
            running?.GetAwaiter().GetResult();
        }

        void ScoreChunk(bool last)
        {
            FinishScoring();
            if (inChunk == 0)
            {
                return;
            }

            var (values, count) = (chunk, inChunk);
            inChunk = 0;
            if (last)
            {
                ScoreRows(values, count);
                return;
            }

            (chunk, spare) = (spare, chunk);
            scoring = Task.Run(() => ScoreRows(values, count), cancellationToken);
        }

        try
        {
            foreach (var record in records)
            {
                if (++seen > maxRows)
                {
                    throw new TooManyRecordsException(maxRows);
                }

                if (explainer is not null && seen > maxExplainedRows)
                {
                    throw new InputLimitException($"{source}: explanations are given for at most {maxExplainedRows:N0} records per request; send fewer records, or leave out explain.");
                }

                if ((seen & 1023) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                rowProblems.Clear();
                if (!parser.TryParse(record, chunk.AsSpan(inChunk * width, width), out _, rowProblems))
                {
                    badRecords++;
                    problemCount += rowProblems.Count;
                    problems.AddRange(rowProblems.Take(MaxProblems - problems.Count));
                    continue;
                }

                if (neverGivenCount > 0)
                {
                    var row = chunk.AsSpan(inChunk * width, width);
                    for (var f = 0; f < width; f++)
                    {
                        if (neverGiven[f] && !double.IsNaN(row[f]))
                        {
                            neverGiven[f] = false;
                            neverGivenCount--;
                        }
                    }
                }

                if (++inChunk == ChunkRows)
                {
                    ScoreChunk(last: false);
                }
            }

            FinishScoring();
        }
        finally
        {
            // Never leave a chunk being scored behind an exception (its buffers are reused, its list shared).
            if (scoring is not null)
            {
                try
                {
                    scoring.Wait(CancellationToken.None);
                }
                catch (AggregateException)
                {
                    // The first exception is the one being thrown already.
                }
            }
        }

        if (problemCount > 0)
        {
            throw new PipelineException($"{source}: {problemCount} problem(s) in {badRecords} record(s); first: {problems[0]}", problems);
        }

        ScoreChunk(last: true);
        if (Unscorable(bundle, source, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(probabilities), i => LocationOf(open, source, i)) is { } unscorable)
        {
            throw unscorable;
        }

        var phishing = probabilities.Count(DecisionRule.IsPhishing);
        return new PredictionSummary(bundle.Version, source, columns, [.. probabilities], phishing, probabilities.Count - phishing)
        {
            Explanations = explanations?.ToArray(),
            ExplainTop = explainer is null ? 0 : explainTop,
            // One record with a missing value is the everyday case of imputation, not an empty column.
            EmptyFeatures = probabilities.Count < 2 ? [] : [.. schema.Features.Where((_, f) => neverGiven[f]).Select(f => f.Name)],
        };
    }

    /// <summary>Second pass: the records again, each with its verdict, one at a time.</summary>
    /// <exception cref="PipelineException">The text is not what the first pass scored (a file changed in between or
    /// while it is read again): verdicts are paired with records by position, so they would go to the wrong records.</exception>
    public IEnumerable<PredictedRecord> Records(PredictionSummary summary, Func<TextReader> open)
    {
        ArgumentNullException.ThrowIfNull(summary);
        using var reader = open();
        var (columns, records) = CsvTableReader.Open(reader, summary.Source, _limits.Csv);
        if (!columns.SequenceEqual(summary.Columns, StringComparer.Ordinal))
        {
            throw Changed(summary, "read again, its header differs");
        }

        var i = 0;
        foreach (var record in records)
        {
            // The first pass refused a record of another width; here it can only come from a file changed meanwhile.
            if (i == summary.Count || record.Problem is not null)
            {
                throw Changed(summary, i == summary.Count ? $"read again, it has more than the {summary.Count:N0} records scored" : $"read again, {record.Location} has another number of fields than the header");
            }

            var phishing = summary.PhishingProbabilities[i++];
            var isPhishing = DecisionRule.IsPhishing(phishing);
            yield return new PredictedRecord(record.Location, record.Values, isPhishing ? schema.Target.NegativeValue : schema.Target.PositiveValue, phishing, isPhishing)
            {
                Explanation = summary.Explanations?[i - 1],
            };
        }

        if (i != summary.Count)
        {
            throw Changed(summary, $"read again, it has {i:N0} records, not the {summary.Count:N0} scored");
        }
    }

    /// <summary>Records explained at once by <see cref="ExplainedRecords"/>: what it holds, whatever the input's length.</summary>
    public const int ExplainBatchRows = 8192;

    /// <summary>
    /// Second pass with explanations, made a batch of <see cref="ExplainBatchRows"/> records at a time as they are
    /// written: <see cref="Score"/> with explanations keeps every record's until the answer is written (about 2 KB a
    /// distinct record with all features: 400,000 took 1 GB), which the API bounds by its row limit; a file of any length
    /// is explained here in bounded memory. Give it the summary of a <see cref="Score"/> without explanations.
    /// </summary>
    /// <exception cref="PipelineException">The text is not what the first pass scored (see <see cref="Records"/>).</exception>
    public IEnumerable<PredictedRecord> ExplainedRecords(ModelBundle bundle, PredictionSummary summary, Func<TextReader> open, int explainTop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(summary);
        var explainer = VerdictExplainer.TryCreate(bundle, out var reason)
            ?? throw new InvalidOperationException($"Model {bundle.Version} cannot explain its verdicts: {reason}.");
        var mapping = DatasetParser.ResolveColumns(new RawTable(summary.Source, summary.Columns, []), schema, requireTarget: false, allowUnknownColumns: true);
        var parser = new RecordParser(schema, mapping, summary.Source, _limits.MaxMissingFraction, readLabel: false);
        var width = schema.Features.Count;
        var values = new double[ExplainBatchRows * width];
        var batch = new List<PredictedRecord>(ExplainBatchRows);
        var problems = new List<DataProblem>();

        PredictedRecord[] Explain()
        {
            var raw = new FeatureMatrix(batch.Count == ExplainBatchRows ? values : values[..(batch.Count * width)], batch.Count, width);
            var why = explainer.ExplainAll(raw, bundle.Complete(raw, cancellationToken), explainTop, cancellationToken);
            var explained = batch.Select((record, i) => record with { Explanation = why[i] }).ToArray();
            batch.Clear();
            return explained;
        }

        foreach (var record in Records(summary, open))
        {
            // The first pass took every record: one refused now comes from a file changed meanwhile.
            problems.Clear();
            if (!parser.TryParse(new RawRecord(record.Location, record.Values), values.AsSpan(batch.Count * width, width), out _, problems))
            {
                throw Changed(summary, $"read again, {record.Location} is not a record it scored");
            }

            batch.Add(record);
            if (batch.Count == ExplainBatchRows)
            {
                foreach (var explained in Explain())
                {
                    yield return explained;
                }
            }
        }

        if (batch.Count > 0)
        {
            foreach (var explained in Explain())
            {
                yield return explained;
            }
        }
    }

    /// <summary>
    /// A refusal when a record's phishing probability is not a number in [0, 1] (a linear model's arithmetic overflows
    /// on feature values far beyond those it was trained on, e.g. 1.7e308 in a float feature): such a record had the
    /// verdict phishing with probability NaN, and the JSON answer failed with a 500. Null when every one is a probability.
    /// </summary>
    /// <param name="locate">Where the i-th record (0-based) is, for the message; called for the first bad one only.</param>
    public static PipelineException? Unscorable(ModelBundle bundle, string source, ReadOnlySpan<double> phishingProbabilities, Func<int, string> locate)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(locate);
        var (bad, first) = ProbabilityCheck.NotProbabilities(phishingProbabilities);
        if (bad == 0)
        {
            return null;
        }

        var problem = new DataProblem(source, locate(first), null, null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"model {bundle.Version} ({bundle.Classifier.GetType().Name}) gives this record a phishing probability that is not a number between 0 and 1 ({phishingProbabilities[first]}): its arithmetic overflowed on feature values far outside those it was trained on. Send values in each feature's usual range."));
        return new PipelineException($"{source}: {bad:N0} record(s) could not be scored; first: {problem}", [problem]);
    }

    // The i-th record's location, read again from the start: kept for no record during scoring, needed only to refuse one.
    private string LocationOf(Func<TextReader> open, string source, int index)
    {
        using var reader = open();
        return CsvTableReader.Open(reader, source, _limits.Csv).Records.ElementAtOrDefault(index)?.Location ?? $"record {index + 1:N0}";
    }

    private static PipelineException Changed(PredictionSummary summary, string where) =>
        new($"{summary.Source} changed while it was being scored ({where}); verdicts go to records by position, so nothing was written. Score a copy that does not change.");

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

    /// <summary>Why one record (schema feature order, NaN = missing) gets its verdict: the top features toward phishing.</summary>
    public static VerdictExplanation Explain(ModelBundle bundle, VerdictExplainer explainer, ReadOnlySpan<double> features, int top)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(explainer);
        var raw = new FeatureMatrix(features.ToArray(), 1, features.Length);
        return explainer.Explain(features, bundle.Complete(raw).Row(0), top);
    }
}

/// <summary>Limits on what one prediction request may cost: CSV sizes and the share of missing features per record.</summary>
public sealed record PredictionLimits(CsvLimits Csv, double MaxMissingFraction)
{
    /// <summary>No size limits (trusted files); records with more than half their features missing are invalid.</summary>
    public static PredictionLimits Default { get; } = new(CsvLimits.None, RecordParser.DefaultMaxMissingFraction);
}

/// <summary>The first pass's result: one phishing probability per record, in order.</summary>
public sealed record PredictionSummary(string ModelVersion, string Source, IReadOnlyList<string> Columns, double[] PhishingProbabilities, int PhishingCount, int LegitimateCount)
{
    /// <summary>One explanation per record when explanations were asked for; else null.</summary>
    public VerdictExplanation[]? Explanations { get; init; }

    /// <summary>Features explained per record (0 = none).</summary>
    public int ExplainTop { get; init; }

    /// <summary>Features missing in every record (of two or more): imputed throughout, so every verdict rests on the
    /// other features. Empty when each feature has a value somewhere.</summary>
    public IReadOnlyList<string> EmptyFeatures { get; init; } = [];

    /// <summary>The warning for <see cref="EmptyFeatures"/>, or null when there are none.</summary>
    public string? EmptyFeaturesWarning => EmptyFeatures.Count == 0 ? null
        : $"{string.Join(", ", EmptyFeatures)} {(EmptyFeatures.Count == 1 ? "has" : "have")} no value in any of the {Count:N0} records: imputed in every one, so the verdicts rest on the other features only.";

    public int Count => PhishingProbabilities.Length;
}

/// <summary>One scored record. <paramref name="PredictedClass"/> uses the data set's own encoding (-1 phishing, 1 legitimate).</summary>
public sealed record PredictedRecord(string Location, string?[] Values, int PredictedClass, double PhishingProbability, bool IsPhishing)
{
    /// <summary>Why: set when explanations were asked for.</summary>
    public VerdictExplanation? Explanation { get; init; }

    public string Verdict => IsPhishing ? "phishing" : "legitimate";
}

/// <summary>Scoring stopped because the explanations made so far may not be kept (Score's keep answered false).</summary>
public sealed class ExplanationsNotKeptException(int explained) : Exception($"Scoring stopped after explaining {explained:N0} records: their explanations may not be kept.")
{
    public int Explained { get; } = explained;
}

/// <summary>More records than the configured limit.</summary>
public sealed class TooManyRecordsException(int limit) : Exception($"The input has more than {limit:N0} records.")
{
    public int Limit { get; } = limit;
}
