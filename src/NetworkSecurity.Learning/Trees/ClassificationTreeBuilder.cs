namespace NetworkSecurity.Learning.Trees;

/// <summary>Shared by the CART, forest and AdaBoost learners: grows a weighted classification tree on binned rows.</summary>
internal static class ClassificationTreeBuilder
{
    /// <param name="weights">Weight per original row of <paramref name="data"/> (0 = not in this tree's sample).</param>
    public static TreeGrower.Result Grow(
        BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, double[] weights, bool entropy, TreeLimits limits, Random? featureSampler)
    {
        // Sum the statistics of copies of a row into its distinct row.
        var positive = new double[data.DistinctRows];
        var total = new double[data.DistinctRows];
        var counts = new int[data.DistinctRows];
        foreach (var row in rows)
        {
            var w = weights[row];
            if (w > 0)
            {
                var d = data.RowToDistinct[row];
                total[d] += w;
                positive[d] += labels[row] == 1 ? w : 0;
                counts[d] += w >= 1 && w == Math.Floor(w) ? (int)w : 1; // bootstrap multiplicity, else one row
            }
        }

        var items = new int[data.DistinctRows];
        var count = 0;
        for (var d = 0; d < counts.Length; d++)
        {
            if (counts[d] > 0)
            {
                items[count++] = d;
            }
        }

        if (count == 0)
        {
            throw new ArgumentException("Every training row has zero weight.");
        }

        return new TreeGrower(data, new ImpurityCriterion(entropy), limits).Grow(items, count, positive, total, counts, featureSampler);
    }

    /// <summary>Number of features to try per split: "sqrt", "log2", "all", a fraction in (0, 1] or a count.</summary>
    public static int ResolveMaxFeatures(string maxFeatures, int columns)
    {
        var value = maxFeatures.Trim().ToLowerInvariant() switch
        {
            "sqrt" => (int)Math.Sqrt(columns),
            "log2" => (int)Math.Log2(columns),
            "all" or "none" or "" => columns,
            var text when double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) =>
                number is > 0 and <= 1 && text.Contains('.', StringComparison.Ordinal) ? (int)Math.Ceiling(number * columns) : (int)number,
            _ => throw new ArgumentException($"max_features '{maxFeatures}' is not sqrt, log2, all, a fraction or a count.", nameof(maxFeatures)),
        };
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFeatures), maxFeatures, "max_features must select at least one feature.");
        }

        return Math.Min(value, columns);
    }
}
