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

    /// <summary>
    /// Number of features to try per split: "sqrt", "log2", "all", a fraction in (0, 1] (of <paramref name="columns"/>,
    /// rounded up) or a count from 1 to <paramref name="columns"/>, as scikit-learn's max_features.
    /// </summary>
    public static int ResolveMaxFeatures(string maxFeatures, int columns)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var text = maxFeatures.Trim().ToLowerInvariant();
        var value = text switch
        {
            "sqrt" => Math.Max(1, (int)Math.Sqrt(columns)),
            "log2" => Math.Max(1, (int)Math.Log2(columns)), // at least one, as scikit-learn (log2 of 1 column is 0)
            "all" or "none" or "" => columns,
            _ when int.TryParse(text, System.Globalization.NumberStyles.Integer, culture, out var count) =>
                count <= columns
                    ? count
                    : throw new ArgumentOutOfRangeException(nameof(maxFeatures), maxFeatures, $"max_features {count} is more than the {columns} features."),

            // A fraction such as 1.5 was read as the count 1 (one feature per split), silently.
            _ when double.TryParse(text, System.Globalization.NumberStyles.Float, culture, out var fraction) =>
                fraction is > 0 and <= 1
                    ? Math.Max(1, (int)(fraction * columns)) // rounded down, at least one, as scikit-learn: 0.5 of 31 is 15
                    : throw new ArgumentOutOfRangeException(nameof(maxFeatures), maxFeatures, $"max_features {maxFeatures} is a fraction of the features, which must be in (0, 1]."),
            _ => throw new ArgumentException($"max_features '{maxFeatures}' is not sqrt, log2, all, a fraction or a count.", nameof(maxFeatures)),
        };
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFeatures), maxFeatures, "max_features must select at least one feature.");
        }

        return value;
    }
}
