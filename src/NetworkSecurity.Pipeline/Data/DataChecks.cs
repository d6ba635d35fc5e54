using System.Globalization;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Data;

/// <summary>The refusals every reader of labelled rows gives alike (training, evaluate, push-data): one wording each.</summary>
public static class DataChecks
{
    /// <summary>Throws unless both classes have rows. <paramref name="rows"/> names them, e.g. "The training rows".</summary>
    public static void RequireBothClasses(DataSchema schema, string rows, long negative, long positive, string? after = null)
    {
        if (negative == 0 || positive == 0)
        {
            throw new PipelineException($"{rows} must contain both classes ({string.Join(" and ", schema.Target.Classes.Select(c => c.Name))}); got {negative} and {positive}.{(after is null ? "" : " " + after)}");
        }
    }

    /// <summary>The features with no value in any of <paramref name="data"/>'s rows (every cell empty or na), in schema order; none without rows.</summary>
    public static string[] FeaturesWithoutValues(DataSchema schema, NetworkDataset data) =>
        data.Count == 0 ? [] : [.. Enumerable.Range(0, schema.Features.Count).Where(f => data.MissingCount(f) == data.Count).Select(f => schema.Features[f].Name)];

    /// <summary>
    /// Why the features with no value in any of <paramref name="data"/>'s rows make it unusable, or null when every
    /// feature has a value somewhere. Such a column can be neither learned nor imputed (the imputer has no donor).
    /// </summary>
    public static string? EmptyFeatures(DataSchema schema, NetworkDataset data, string rows)
    {
        var empty = FeaturesWithoutValues(schema, data);
        return empty.Length == 0
            ? null
            : empty.Length == 1
                ? $"Column {empty[0]} has no value in any of the {data.Count} {rows} (every cell empty or na): nothing to learn it from or impute it with."
                : $"Columns {string.Join(", ", empty)} have no value in any of the {data.Count} {rows} (every cell empty or na): nothing to learn them from or impute them with.";
    }

    /// <summary>
    /// The warning for test rows in which a feature has no value, though the training rows have some (an export that lost
    /// a column in its later rows): the run goes on, but the test metrics score that feature as imputed from the training
    /// rows, not as the data has it. Null when every feature has a value in some test row.
    /// </summary>
    public static string? EmptyTestFeatures(DataSchema schema, NetworkDataset test)
    {
        var empty = FeaturesWithoutValues(schema, test);
        return empty.Length == 0
            ? null
            : empty.Length == 1
                ? $"Column {empty[0]} has no value in any of the {test.Count} test rows (every cell empty or na): the test metrics score it as imputed from the training rows."
                : $"Columns {string.Join(", ", empty)} have no value in any of the {test.Count} test rows (every cell empty or na): the test metrics score them as imputed from the training rows.";
    }

    /// <summary>Throws when more records are invalid than <paramref name="allowed"/> (a share) lets through, showing the first ten problems.</summary>
    /// <summary>A share as a percentage with the digits it needs: 0.0001 is "0.01 %", not "0.0 %".</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("0.###", CultureInfo.InvariantCulture) + " %";

    public static void RequireFewInvalid(string records, long invalid, long total, double allowed, IReadOnlyList<DataProblem> problems, string? after = null)
    {
        if (invalid == 0 || invalid <= allowed * total && invalid < total)
        {
            return;
        }

        var shown = string.Join(Environment.NewLine, problems.Take(10).Select(p => "  " + p));
        throw new PipelineException(
            $"{invalid} of {total} {records} are invalid (at most {Percent(allowed)} allowed){(after is null ? "" : "; " + after)}:{Environment.NewLine}{shown}",
            problems);
    }
}
