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

    /// <summary>Throws when more records are invalid than <paramref name="allowed"/> (a share) lets through, showing the first ten problems.</summary>
    public static void RequireFewInvalid(string records, long invalid, long total, double allowed, IReadOnlyList<DataProblem> problems, string? after = null)
    {
        if (invalid == 0 || invalid <= allowed * total && invalid < total)
        {
            return;
        }

        var shown = string.Join(Environment.NewLine, problems.Take(10).Select(p => "  " + p));
        throw new PipelineException(
            string.Create(CultureInfo.InvariantCulture, $"{invalid} of {total} {records} are invalid (at most {allowed:P1} allowed){(after is null ? "" : "; " + after)}:{Environment.NewLine}{shown}"),
            problems);
    }
}
