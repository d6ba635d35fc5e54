namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>The names under which an answer echoes the input's columns.</summary>
public static class EchoedColumns
{
    /// <summary>
    /// The input's column names made distinct: a repeated "dup" is "dup_2", then "dup_3" (a JSON object cannot hold a
    /// key twice, and the CSV answer names them alike so both formats agree). Every value is kept.
    /// </summary>
    public static string[] Distinct(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = new string[columns.Count];
        for (var c = 0; c < names.Length; c++)
        {
            var unique = columns[c];
            for (var n = 2; !seen.Add(unique); n++)
            {
                unique = $"{columns[c]}_{n}";
            }

            names[c] = unique;
        }

        return names;
    }
}
