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

    /// <summary>
    /// Why the features with no value in any of <paramref name="data"/>'s rows make it unusable, or null when every
    /// feature has a value somewhere. Such a column can be neither learned nor imputed (the imputer has no donor).
    /// </summary>
    public static string? EmptyFeatures(DataSchema schema, NetworkDataset data, string rows)
    {
        if (data.Count == 0)
        {
            return null;
        }

        var empty = Enumerable.Range(0, schema.Features.Count).Where(f => data.MissingCount(f) == data.Count).Select(f => schema.Features[f].Name).ToArray();
        return empty.Length == 0
            ? null
            : empty.Length == 1
                ? $"Column {empty[0]} has no value in any of the {data.Count} {rows} (every cell empty or na): nothing to learn it from or impute it with."
                : $"Columns {string.Join(", ", empty)} have no value in any of the {data.Count} {rows} (every cell empty or na): nothing to learn them from or impute them with.";
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
