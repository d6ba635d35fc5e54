using System.Globalization;
using System.Text;

namespace NetworkSecurity.Tracking;

/// <summary>
/// MLflow's own rules for names and values (mlflow/utils/validation.py, 2.x–3.x), applied before anything is written so
/// the file store and the server accept exactly what MLflow accepts: lengths count code points as Python's len() does.
/// </summary>
public static class MlflowRules
{
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 8000;
    public const int MaxExperimentNameLength = 500;
    public const int MaxMetricsPerBatch = 1000;
    public const int MaxParamsOrTagsPerBatch = 100;
    public const int MaxEntitiesPerBatch = 1000;

    /// <summary>
    /// Why MLflow refuses <paramref name="key"/> as a metric, param or tag key, or null when it accepts it. MLflow's rule:
    /// <c>^[/\w.\- :]*$</c> with Python's Unicode <c>\w</c> (no colon on Windows), the name must not change under
    /// posixpath.normpath nor start with ".." or "/", and at most 250 characters.
    /// </summary>
    public static string? KeyProblem(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var rune in key.EnumerateRunes())
        {
            if (!IsKeyCharacter(rune))
            {
                return $"'{key}' has the character '{rune}': MLflow names may only contain letters, digits, underscores (_), dashes (-), periods (.), spaces ( ){(OperatingSystem.IsWindows() ? "" : ", colons (:)")} and slashes (/)";
            }
        }

        var normalized = PosixNormalize(key);
        if (normalized != key || normalized == "." || normalized.StartsWith("..", StringComparison.Ordinal) || normalized.StartsWith('/'))
        {
            return $"'{key}' would resolve to '{normalized}' as a path, which MLflow refuses";
        }

        var length = CodePoints(key);
        return length > MaxKeyLength ? $"'{key[..40]}…' is {length} characters long; MLflow allows {MaxKeyLength}" : null;
    }

    public static bool IsValidKey(string key) => KeyProblem(key) is null;

    /// <summary>Why MLflow refuses an experiment name (empty or over 500 characters), or null.</summary>
    public static string? ExperimentNameProblem(string? name) =>
        string.IsNullOrEmpty(name) ? "the experiment name is empty (set MLFLOW_EXPERIMENT_NAME)"
        : CodePoints(name) > MaxExperimentNameLength ? $"the experiment name is {CodePoints(name)} characters long; MLflow allows {MaxExperimentNameLength}"
        : null;

    /// <summary>The first <paramref name="limit"/> code points, as MLflow truncates long param and tag values.</summary>
    public static string Truncate(string value, int limit)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= limit)
        {
            return value;
        }

        var builder = new StringBuilder(limit);
        var count = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (count++ == limit)
            {
                break;
            }

            builder.Append(rune.ToString());
        }

        return builder.ToString();
    }

    /// <summary>A metric value as Python's float() reads it back; MLflow itself writes repr(float).</summary>
    public static string FormatMetric(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "Infinity",
        double.NegativeInfinity => "-Infinity",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    // Python's \w on str: letters and numbers of any script (str.isalnum) and the underscore.
    private static bool IsKeyCharacter(Rune rune) =>
        Rune.IsLetter(rune) || Rune.IsNumber(rune)
        || rune.Value is '_' or '/' or '.' or '-' or ' '
        || (rune.Value == ':' && !OperatingSystem.IsWindows());

    private static int CodePoints(string text) => text.EnumerateRunes().Count();

    /// <summary>Python's posixpath.normpath, exactly (including the kept double leading slash).</summary>
    internal static string PosixNormalize(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        var initialSlashes = path.StartsWith('/') ? (path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal) ? 2 : 1) : 0;
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part != ".." || (initialSlashes == 0 && parts.Count == 0) || (parts.Count > 0 && parts[^1] == ".."))
            {
                parts.Add(part);
            }
            else if (parts.Count > 0)
            {
                parts.RemoveAt(parts.Count - 1);
            }
        }

        var joined = new string('/', initialSlashes) + string.Join('/', parts);
        return joined.Length == 0 ? "." : joined;
    }
}
