using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>Global importance for the model card: mean |contribution| per feature over a set of (imputed) rows.</summary>
public static class ImportanceCalculator
{
    /// <summary>
    /// At most this many distinct rows are explained (evenly spaced, each weighted by its copies): the mean of |contribution|
    /// settles long before, and a training run must not pay seconds of TreeSHAP on deep ensembles for the model card.
    /// </summary>
    public const int MaxDistinctRows = 400;

    public static GlobalImportance Compute(IClassifierModel model, IReadOnlyList<string> featureNames, FeatureMatrix rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var explainer = VerdictExplainer.TryCreate(model, featureNames, out var reason);
        if (explainer is null)
        {
            return new GlobalImportance("", 0, [], reason);
        }

        // Copies of a row have the same contributions: explain each distinct row once, weighted by its copies.
        var width = model.FeatureCount;
        var distinct = new Dictionary<string, (int Row, int Copies)>();
        for (var r = 0; r < rows.Rows; r++)
        {
            var key = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.Row(r)));
            distinct[key] = distinct.TryGetValue(key, out var seen) ? (seen.Row, seen.Copies + 1) : (r, 1);
        }

        var all = distinct.Values.ToArray();
        var unique = all.Length <= MaxDistinctRows
            ? all
            : Enumerable.Range(0, MaxDistinctRows).Select(i => all[(int)((long)i * all.Length / MaxDistinctRows)]).ToArray();
        var represented = unique.Sum(u => u.Copies);
        var contributions = new double[unique.Length * width];
        Parallel.For(0, unique.Length, i => explainer.PhishingContributions(rows.Row(unique[i].Row), contributions.AsSpan(i * width, width)));
        var sums = new double[width];
        for (var i = 0; i < unique.Length; i++)
        {
            for (var f = 0; f < width; f++)
            {
                sums[f] += unique[i].Copies * Math.Abs(contributions[(i * width) + f]);
            }
        }

        var features = Enumerable.Range(0, width)
            .Select(f => new FeatureImportance(featureNames[f], represented > 0 ? sums[f] / represented : 0))
            .OrderByDescending(f => f.MeanAbsContribution)
            .ToArray();
        return new GlobalImportance(explainer.Scale, represented, features);
    }
}
