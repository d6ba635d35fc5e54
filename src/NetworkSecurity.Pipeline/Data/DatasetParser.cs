using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Data;

/// <summary>Maps a raw table onto the schema and parses every record; bad records are kept aside, not dropped silently.</summary>
public static class DatasetParser
{
    public sealed record Result(NetworkDataset Valid, IReadOnlyList<InvalidRecord> Invalid, ColumnMapping Mapping);

    /// <summary>
    /// Parses <paramref name="table"/>. Missing feature columns always fail; unknown columns fail when
    /// <paramref name="allowUnknownColumns"/> is false (training), and are ignored otherwise (prediction).
    /// </summary>
    public static Result Parse(RawTable table, DataSchema schema, bool requireTarget, bool allowUnknownColumns, double maxMissingFraction = RecordParser.DefaultMaxMissingFraction)
    {
        var mapping = ResolveColumns(table, schema, requireTarget, allowUnknownColumns);
        var parser = new RecordParser(schema, mapping, table.Source, maxMissingFraction, columnNumbers: table.Positional);
        var featureCount = schema.Features.Count;
        var values = new double[table.Records.Count * featureCount];
        var labels = new int[table.Records.Count];
        var locations = new string[table.Records.Count];
        var invalid = new List<InvalidRecord>();
        var problems = new List<DataProblem>();
        var row = 0;
        foreach (var record in table.Records)
        {
            problems.Clear();
            var features = values.AsSpan(row * featureCount, featureCount);
            if (parser.TryParse(record, features, out var label, problems))
            {
                labels[row] = label;
                locations[row] = record.Location;
                row++;
            }
            else
            {
                invalid.Add(new InvalidRecord(record.Location, record.Values, problems.ToArray()));
            }
        }

        Array.Resize(ref values, row * featureCount);
        Array.Resize(ref labels, row);
        Array.Resize(ref locations, row);
        return new Result(new NetworkDataset(new FeatureMatrix(values, row, featureCount), labels, locations), invalid, mapping);
    }

    public static ColumnMapping ResolveColumns(RawTable table, DataSchema schema, bool requireTarget, bool allowUnknownColumns)
    {
        var mapping = ColumnMapping.Resolve(schema, table.Columns, table.Source, labelRead: requireTarget, positional: table.Positional, headerLine: table.HeaderLine);
        var errors = new List<string>();
        if (mapping.MissingFeatures.Count > 0)
        {
            errors.Add($"missing column(s): {Listed(mapping.MissingFeatures)}");
            if (table.Columns.Any(c => c.Contains('\0', StringComparison.Ordinal)))
            {
                // "h\0a\0v\0i\0n\0g\0": every other byte zero.
                errors.Add("the header holds NUL characters: the file looks like UTF-16 without a byte order mark; save it as UTF-8");
            }

            if (mapping.MissingFeatures.Count == schema.Features.Count && table.Columns.All(LooksLikeData))
            {
                errors.Add("the first line looks like a data row, not a header: the file needs a header row naming its columns");
            }

            var hints = NearMatches(schema, mapping).ToList();
            errors.AddRange(hints.Take(NamesShown));
            if (hints.Count > NamesShown)
            {
                errors.Add($"{hints.Count - NamesShown} more unknown columns look like missing features");
            }
        }

        if (requireTarget && !mapping.HasTarget)
        {
            errors.Add($"missing the target column '{schema.Target.Name}'");
        }

        if (!allowUnknownColumns && mapping.Unknown.Count > 0)
        {
            // Renamed features are the usual case, but a column that is none (a URL, a note) had no remedy here.
            errors.Add($"unknown column(s): {Listed(mapping.Unknown)} (add them as aliases in the schema if they are renamed features, or to its index_columns to leave them out)");
        }

        if (errors.Count > 0)
        {
            var where = table.Positional ? $"line {table.HeaderLine}" : "field names";
            var problems = errors.Select(e => new DataProblem(table.Source, where, null, null, e)).ToArray();
            throw new PipelineException($"{table.Source}, {(table.Positional ? $"line {table.HeaderLine} (header)" : "field names")}: {string.Join("; ", errors)}.", problems);
        }

        return mapping;
    }

    // A wide file's hundreds of columns (or hints) are cut to this many in a message.
    private const int NamesShown = 12;

    private static string Listed(IReadOnlyList<string> names) =>
        names.Count <= NamesShown ? string.Join(", ", names.Select(Printable)) : $"{string.Join(", ", names.Take(NamesShown).Select(Printable))} and {names.Count - NamesShown:N0} more";

    /// <summary>
    /// A name as it can be shown in a message or a log: control characters (NUL above all) written as escapes, and so are
    /// format characters (the bidi override U+202E turned the rest of the line around) and U+2028/U+2029 (a new line in
    /// many log viewers).
    /// </summary>
    public static string Printable(string name) =>
        name.Any(Unprintable) ? string.Concat(name.Select(c => c == '\0' ? "\\0" : char.IsControl(c) ? $"\\x{(int)c:X2}" : Unprintable(c) ? $"\\u{(int)c:X4}" : c.ToString())) : name;

    private static bool Unprintable(char c) => char.IsControl(c)
        || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator;

    private static bool LooksLikeData(string cell) =>
        cell.Trim().Length == 0 || double.TryParse(cell, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// "'having IP Address' looks like having_IP_Address": an unknown column that differs from a missing feature's name
    /// or alias only in case, spaces, dashes or underscores. Said, not taken: names are matched exactly (ignoring case).
    /// </summary>
    private static IEnumerable<string> NearMatches(DataSchema schema, ColumnMapping mapping)
    {
        var missing = schema.Features.Where(f => mapping.MissingFeatures.Contains(f.Name)).ToArray();
        foreach (var column in mapping.Unknown)
        {
            var squashed = ColumnMapping.Squash(column);
            if (squashed.Length > 0 && missing.FirstOrDefault(f => f.Aliases.Append(f.Name).Any(n => ColumnMapping.Squash(n) == squashed)) is { } feature)
            {
                yield return $"'{Printable(column)}' looks like {feature.Name} (rename the column, or add it to the feature's aliases in the schema)";
            }
        }
    }
}
