namespace NetworkSecurity.Pipeline.Schema;

/// <summary>
/// How the columns of an input table line up with the schema: which source column feeds each feature and the
/// target, which were matched through an alias, which were ignored (row numbers) and which are unknown.
/// </summary>
public sealed record ColumnMapping(
    IReadOnlyList<int> FeatureSources,
    int TargetSource,
    IReadOnlyList<string> MissingFeatures,
    IReadOnlyList<(string Source, string Schema)> Renamed,
    IReadOnlyList<string> Ignored,
    IReadOnlyList<string> Unknown)
{
    public bool HasTarget => TargetSource >= 0;

    /// <summary>Lines up <paramref name="columns"/> (as read from a source) with <paramref name="schema"/>.</summary>
    /// <param name="source">Names the input in messages (a file name, "request body").</param>
    /// <exception cref="PipelineException">Two columns map to one feature or to the target (located on the header's line).</exception>
    /// <param name="labelRead">False when the label is never read (scoring): a second label-like column (Result and
    /// label, say) is then one more extra column, not a clash.</param>
    /// <param name="positional">False when columns have no position a reader could count (a collection's field names):
    /// a clash then names the fields, not "line 1, column 32".</param>
    /// <param name="headerLine">The line the columns were read from (later than 1 after blank lines).</param>
    public static ColumnMapping Resolve(DataSchema schema, IReadOnlyList<string> columns, string source = "input", bool labelRead = true, bool positional = true, int headerLine = 1)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(columns);

        var byName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var aliasOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var f = 0; f < schema.Features.Count; f++)
        {
            byName[schema.Features[f].Name] = f;
            foreach (var alias in schema.Features[f].Aliases)
            {
                aliasOf[alias] = f;
            }
        }

        var targetNames = new HashSet<string>(schema.Target.Aliases.Append(schema.Target.Name), StringComparer.OrdinalIgnoreCase);
        var indexNames = new HashSet<string>(schema.IndexColumns, StringComparer.OrdinalIgnoreCase);

        var featureSources = Enumerable.Repeat(-1, schema.Features.Count).ToArray();
        var targetSource = -1;
        var renamed = new List<(string, string)>();
        var ignored = new List<string>();
        var unknown = new List<string>();

        for (var c = 0; c < columns.Count; c++)
        {
            var name = Normalize(columns[c]);
            if (byName.TryGetValue(name, out var feature) || aliasOf.TryGetValue(name, out feature))
            {
                if (featureSources[feature] >= 0)
                {
                    throw Clash(featureSources[feature], c, schema.Features[feature].Name, $"feature '{schema.Features[feature].Name}'");
                }

                featureSources[feature] = c;
                if (!string.Equals(name, schema.Features[feature].Name, StringComparison.Ordinal))
                {
                    renamed.Add((columns[c], schema.Features[feature].Name));
                }
            }
            else if (targetNames.Contains(name))
            {
                if (targetSource >= 0 && !labelRead)
                {
                    unknown.Add(columns[c]);
                    continue;
                }

                if (targetSource >= 0)
                {
                    throw Clash(targetSource, c, schema.Target.Name, $"the target '{schema.Target.Name}'");
                }

                targetSource = c;
            }
            else if (indexNames.Contains(name) || (c == 0 && name.Length == 0))
            {
                ignored.Add(columns[c]);
            }
            else
            {
                unknown.Add(columns[c]);
            }
        }

        PipelineException Clash(int first, int second, string field, string what) => PipelineException.At(positional
            ? new DataProblem(source, $"line {headerLine}", second + 1, field, $"columns {first + 1} ('{columns[first]}') and {second + 1} ('{columns[second]}') both map to {what}.")
            : new DataProblem(source, "field names", null, field, $"fields '{columns[first]}' and '{columns[second]}' both map to {what}: use one name for it in every document."));

        var missing = featureSources.Select((s, f) => (s, f)).Where(x => x.s < 0).Select(x => schema.Features[x.f].Name).ToArray();
        return new ColumnMapping(featureSources, targetSource, missing, renamed, ignored, unknown);
    }

    /// <summary>A column name as it is matched (case aside): without surrounding spaces, byte order mark and quotes.</summary>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().Trim('\uFEFF').Trim('"').Trim();
    }

    /// <summary>
    /// A name reduced to its lower-case letters and digits ("having IP Address" and having_IP_Address are both
    /// havingipaddress): near misses are said, never matched.
    /// </summary>
    public static string Squash(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new([.. name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);
    }
}
