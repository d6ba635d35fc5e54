using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>
/// Turns the classifier's exact contributions (TreeSHAP or linear, toward legitimate = label 1) into the
/// product's view: toward phishing, with feature names, the value the model saw and whether it was imputed.
/// Created only for models that can explain; <see cref="TryCreate"/> says why not otherwise.
/// </summary>
public sealed class VerdictExplainer
{
    // Distinct rows per ExplainRows call in ExplainAll: sized to about a quarter of a second of work, so a cancelled or
    // over-budget request stops within that. A fixed 1,024 rows was that for the boosted trees but six seconds for a
    // fully grown random forest (a 30 s budget answered after 36 s).
    private const int FirstBatchRows = 256;
    private const int MaxBatchRows = 4096;
    private static readonly TimeSpan BatchTarget = TimeSpan.FromSeconds(0.25);

    private readonly IExplainableModel _model;
    private readonly IReadOnlyList<string> _names;

    private VerdictExplainer(IExplainableModel model, IReadOnlyList<string> names)
    {
        _model = model;
        _names = names;
        Scale = model.ContributionScale == ContributionScale.LogOdds ? VerdictExplanation.LogOdds : VerdictExplanation.Probability;

        // Toward phishing: log-odds negate; probabilities are 1 − P(legitimate).
        PhishingBase = model.ContributionScale == ContributionScale.LogOdds ? -model.BaseValue : 1 - model.BaseValue;
    }

    public string Scale { get; }

    public double PhishingBase { get; }

    public static VerdictExplainer? TryCreate(IClassifierModel model, IReadOnlyList<string> featureNames, out string reason)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (ModelExplanation.UnavailableReason(model) is { } why)
        {
            reason = why;
            return null;
        }

        reason = "";
        return new VerdictExplainer((IExplainableModel)model, featureNames);
    }

    public static VerdictExplainer? TryCreate(ModelBundle bundle, out string reason) => TryCreate(bundle.Classifier, bundle.FeatureNames, out reason);

    /// <summary>Contributions toward phishing of one complete (imputed) row, one per feature.</summary>
    public void PhishingContributions(ReadOnlySpan<double> complete, Span<double> contributions)
    {
        _model.Explain(complete, contributions);
        for (var i = 0; i < _model.FeatureCount; i++)
        {
            contributions[i] = 0.0 - contributions[i]; // not -x: a feature that adds nothing is 0, never -0
        }
    }

    /// <param name="raw">The row as sent (NaN = missing), to mark imputed values.</param>
    /// <param name="complete">The row the model scored (missing values imputed).</param>
    public VerdictExplanation Explain(ReadOnlySpan<double> raw, ReadOnlySpan<double> complete, int top)
    {
        Span<double> phi = stackalloc double[_model.FeatureCount];
        PhishingContributions(complete, phi);
        return Describe(raw, complete, phi, top);
    }

    // phi: contributions toward phishing.
    private VerdictExplanation Describe(ReadOnlySpan<double> raw, ReadOnlySpan<double> complete, ReadOnlySpan<double> phi, int top)
    {
        // Largest |contribution| first; ties keep schema order, so answers are stable. Insertion sort: 30 features.
        Span<int> order = stackalloc int[phi.Length];
        for (var i = 0; i < order.Length; i++)
        {
            var j = i;
            while (j > 0 && Math.Abs(phi[order[j - 1]]) < Math.Abs(phi[i]))
            {
                order[j] = order[j - 1];
                j--;
            }

            order[j] = i;
        }

        var count = Math.Min(top, phi.Length);
        var features = new FeatureContribution[count];
        for (var k = 0; k < count; k++)
        {
            var f = order[k];
            features[k] = new FeatureContribution(_names[f], complete[f], double.IsNaN(raw[f]), phi[f]);
        }

        return new VerdictExplanation(PhishingBase, Scale, features);
    }

    /// <summary>
    /// Explains every row of a chunk, in parallel (a batch's explanations cost far more than its scores). Copies of a
    /// row (same values as sent) are explained once: real uploads repeat rows (the bundled data set half of its rows).
    /// </summary>
    public VerdictExplanation[] ExplainAll(FeatureMatrix raw, FeatureMatrix complete, int top, CancellationToken cancellationToken = default)
    {
        var firstCopy = new int[raw.Rows];
        var seen = new Dictionary<RowKey, int>(raw.Rows);
        for (var r = 0; r < raw.Rows; r++)
        {
            firstCopy[r] = seen.TryGetValue(new RowKey(raw, r), out var first) ? first : seen[new RowKey(raw, r)] = r;
        }

        // The distinct rows in batch calls: the model spreads each over the cores (trees: leaf by leaf per block of
        // rows). Each batch is sized from the last one's time, so a cancelled request stops within about BatchTarget.
        var result = new VerdictExplanation[raw.Rows];
        var distinct = seen.Values.ToArray();
        var width = _model.FeatureCount;
        var phi = Array.Empty<double>();
        var rows = FirstBatchRows;
        var last = TimeSpan.Zero;
        for (var start = 0; start < distinct.Length; start += rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rows = start == 0 ? rows : NextBatchRows(rows, last);
            var batch = distinct.AsSpan(start, Math.Min(rows, distinct.Length - start)).ToArray();
            if (phi.Length < batch.Length * width)
            {
                phi = new double[batch.Length * width];
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            _model.ExplainRows(complete.SelectRows(batch), phi.AsMemory(0, batch.Length * width));
            last = clock.Elapsed;
            for (var i = 0; i < batch.Length; i++)
            {
                var toward = phi.AsSpan(i * width, width);
                for (var f = 0; f < width; f++)
                {
                    toward[f] = 0.0 - toward[f]; // not -x: a feature that adds nothing is 0, never -0
                }

                result[batch[i]] = Describe(raw.Row(batch[i]), complete.Row(batch[i]), toward, top);
            }
        }

        for (var r = 0; r < raw.Rows; r++)
        {
            result[r] = result[firstCopy[r]];
        }

        return result;
    }

    /// <summary>The next batch's rows: scaled toward <see cref="BatchTarget"/> by the last batch's time, at most doubling.</summary>
    internal static int NextBatchRows(int rows, TimeSpan last)
    {
        var scale = last <= TimeSpan.Zero ? 2.0 : Math.Min(2.0, BatchTarget / last);
        return (int)Math.Clamp(rows * scale, 16, MaxBatchRows);
    }

    /// <summary>A row of a matrix compared by its values (NaN equal to NaN: the same missing cells impute the same).</summary>
    private readonly struct RowKey(FeatureMatrix matrix, int row) : IEquatable<RowKey>
    {
        private ReadOnlySpan<double> Values => matrix.Row(row);

        public bool Equals(RowKey other) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(Values).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(other.Values));

        public override bool Equals(object? obj) => obj is RowKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Values));
            return hash.ToHashCode();
        }
    }
}
