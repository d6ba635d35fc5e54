namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>The names under which an answer echoes the input's columns.</summary>
public static class EchoedColumns
{
    /// <summary>
    /// The input's column names made distinct: a repeated "dup" becomes "dup_2", "dup_3", …, skipping any name the input
    /// itself has (with "note,note,note_2" the second note is "note_3": the input's own note_2 keeps its name and value).
    /// A column with a blank name is named by its position, "column_4" (it was echoed as "", "_2", and blank headers).
    /// A JSON object cannot hold a key twice, and the CSV answer names them alike so both formats agree. Names that
    /// differ in case are different names. Every value is kept.
    /// </summary>
    public static string[] Distinct(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var given = new HashSet<string>(columns, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var names = new string[columns.Count];
        for (var c = 0; c < names.Length; c++)
        {
            var blank = string.IsNullOrWhiteSpace(columns[c]);
            var name = blank ? $"column_{c + 1}" : columns[c];
            var unique = name;
            // A blank column's name is ours: a column the input itself calls so keeps it.
            if ((blank && given.Contains(name)) || !used.Add(unique))
            {
                var n = 2;
                do
                {
                    unique = $"{name}_{n++}";
                }
                while (given.Contains(unique) || !used.Add(unique));
            }

            names[c] = unique;
        }

        return names;
    }

    /// <summary>
    /// <see cref="Distinct"/>, then input_&lt;name&gt; for a name that the answer adds itself (<paramref name="added"/>,
    /// any case) or that an earlier input column already took: scoring a previous answer again gave two columns of one
    /// name, and readers took the old verdict for the new one. For the CSV and HTML answers (JSON keeps the input in
    /// "values", apart from the verdict).
    /// </summary>
    public static string[] InAnswer(IReadOnlyList<string> columns, IEnumerable<string> added)
    {
        var answer = new HashSet<string>(added, StringComparer.OrdinalIgnoreCase);
        var emitted = new HashSet<string>(StringComparer.Ordinal);
        var names = Distinct(columns);
        for (var c = 0; c < names.Length; c++)
        {
            while (answer.Contains(names[c]) || !emitted.Add(names[c]))
            {
                names[c] = "input_" + names[c];
            }
        }

        return names;
    }
}
