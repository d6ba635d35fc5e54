using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// The checks every learner makes on its training data before any work: without them a label of -1 or 2 was taken
/// silently (a wrong model, or probabilities outside [0, 1]) and a short label array surfaced as an
/// IndexOutOfRangeException.
/// </summary>
public static class TrainingInput
{
    /// <summary>At least one row and one column, and one label (0 or 1) per row.</summary>
    public static void Check(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckShape(features.Rows, features.Columns, labels.Length, nameof(features));
        for (var i = 0; i < labels.Length; i++)
        {
            CheckLabel(labels, i);
        }
    }

    /// <summary>
    /// For learners on a subset of a binned data set: one label per row of <paramref name="data"/>, at least one
    /// training row, each a row of <paramref name="data"/> whose label is 0 or 1 (rows outside the subset are not read).
    /// </summary>
    public static void Check(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(data.Rows, data.Columns, labels.Length, nameof(data));
        if (rows.Length == 0)
        {
            throw new ArgumentException("No training rows.", nameof(rows));
        }

        for (var i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)data.Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), rows[i], $"rows[{i}] is {rows[i]}; the data set has rows 0 to {data.Rows - 1}.");
            }

            CheckLabel(labels, rows[i]);
        }
    }

    private static void CheckShape(int rows, int columns, int labels, string name)
    {
        if (rows == 0)
        {
            throw new ArgumentException("Cannot learn from zero rows.", name);
        }

        if (columns == 0)
        {
            throw new ArgumentException($"The {rows} training rows have no feature columns.", name);
        }

        if (labels != rows)
        {
            throw new ArgumentException($"{rows} rows but {labels} labels.", nameof(labels));
        }
    }

    private static void CheckLabel(ReadOnlySpan<int> labels, int row)
    {
        if (labels[row] is not (0 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labels), labels[row], $"labels[{row}] is {labels[row]}; labels must be 0 (negative) or 1 (positive).");
        }
    }
}
