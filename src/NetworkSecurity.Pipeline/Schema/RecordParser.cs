using System.Globalization;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.Pipeline.Schema;

/// <summary>
/// Turns text cells into feature values and a label, checking types and allowed values.
/// Missing cells (empty, "na", "nan", "null") become NaN so the imputer can fill them; a record with more than
/// <c>maxMissingFraction</c> of its features missing is invalid (there is too little left to impute from).
/// </summary>
public sealed class RecordParser
{
    /// <summary>Default share of missing features above which a record is invalid.</summary>
    public const double DefaultMaxMissingFraction = 0.5;

    private readonly DataSchema _schema;
    private readonly ColumnMapping _mapping;
    private readonly string _source;
    private readonly int _maxMissing;
    private readonly bool _readLabel;
    private readonly bool _columnNumbers;

    /// <param name="readLabel">False when only the features matter (scoring): a label column is then left as it is,
    /// whatever it holds, instead of being checked.</param>
    /// <param name="columnNumbers">False when the source's columns have no position a reader could count (documents):
    /// problems then name the field only.</param>
    public RecordParser(DataSchema schema, ColumnMapping mapping, string source, double maxMissingFraction = DefaultMaxMissingFraction, bool readLabel = true, bool columnNumbers = true)
    {
        _schema = schema;
        _mapping = mapping;
        _source = source;
        _maxMissing = MaxMissing(schema.Features.Count, maxMissingFraction);
        _readLabel = readLabel;
        _columnNumbers = columnNumbers;
    }

    /// <summary>Most missing features a record may have: <paramref name="fraction"/> of them, rounded down.</summary>
    public static int MaxMissing(int featureCount, double fraction) =>
        fraction >= 1 ? featureCount : (int)Math.Floor(featureCount * Math.Max(0, fraction) + 1e-9);

    /// <summary>The message for a record with too many missing features.</summary>
    public static string TooManyMissing(int missing, int featureCount, int maxMissing) =>
        $"{missing} of {featureCount} features are missing; at most {maxMissing} may be (too little to impute from).";

    public static bool IsMissing(string? cell) =>
        cell is null
        || cell.Length == 0
        || string.IsNullOrWhiteSpace(cell)
        || cell.Trim() is var t && (t.Equals("na", StringComparison.OrdinalIgnoreCase)
            || t.Equals("nan", StringComparison.OrdinalIgnoreCase)
            || t.Equals("null", StringComparison.OrdinalIgnoreCase)
            || t.Equals("n/a", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Parses the features into <paramref name="features"/> (length = feature count) and, when the table has a target
    /// and the parser reads labels, the label (0 = negative class, 1 = positive class). Problems are appended; returns true when there were none.
    /// </summary>
    public bool TryParse(RawRecord record, Span<double> features, out int label, List<DataProblem> problems)
    {
        label = -1;
        if (record.Problem is { } unreadable)
        {
            problems.Add(new DataProblem(_source, record.Location, null, null, unreadable));
            return false;
        }

        var before = problems.Count;
        var missing = 0;
        for (var f = 0; f < _schema.Features.Count; f++)
        {
            var column = _mapping.FeatureSources[f];
            var cell = column < record.Values.Length ? record.Values[column] : null;
            // The usual cell ("-1", "0", "1") is read without the general number parser (same value).
            if (!TryParseDigit(cell, out var value))
            {
                if (IsMissing(cell))
                {
                    features[f] = double.NaN;
                    missing++;
                    continue;
                }

                if (!TryParseNumber(cell!, out value) || !double.IsFinite(value))
                {
                    problems.Add(Problem(record, column, _schema.Features[f].Name, $"'{Truncate(cell!)}' {NotANumber(cell!)}"));
                    features[f] = double.NaN;
                    continue;
                }
            }

            var feature = _schema.Features[f];
            if (!feature.Allows(value))
            {
                // The cell as written: 99999999999999999999999 is not "1E+23" to the person who typed it.
                problems.Add(Problem(record, column, feature.Name, $"{Truncate(cell!.Trim())} is not an allowed value (allowed: {feature.AllowedText})."));
                features[f] = double.NaN;
            }
            else
            {
                // -0 stored as +0: the data set hash is of the values' bytes, and the same record from MongoDB (where
                // push-data stores "-0" as 0) or a CSV saying "0" must hash the same; no comparison tells them apart.
                features[f] = value == 0 ? 0 : value;
            }
        }

        if (missing > _maxMissing)
        {
            problems.Add(new DataProblem(_source, record.Location, null, null, TooManyMissing(missing, _schema.Features.Count, _maxMissing)));
        }

        if (_mapping.HasTarget && _readLabel)
        {
            label = ParseLabel(record, problems);
        }

        return problems.Count == before;
    }

    /// <summary>One digit, optionally after a minus sign ("-0" is -0.0, as double.Parse gives).</summary>
    internal static bool TryParseDigit(string? cell, out double value)
    {
        if (cell is { Length: 1 } && char.IsAsciiDigit(cell[0]))
        {
            value = cell[0] - '0';
            return true;
        }

        if (cell is { Length: 2 } && cell[0] == '-' && char.IsAsciiDigit(cell[1]))
        {
            value = -(double)(cell[1] - '0');
            return true;
        }

        value = 0;
        return false;
    }

    private int ParseLabel(RawRecord record, List<DataProblem> problems)
    {
        var column = _mapping.TargetSource;
        var cell = column < record.Values.Length ? record.Values[column] : null;
        var target = _schema.Target;
        if (IsMissing(cell))
        {
            problems.Add(Problem(record, column, target.Name, "the target value is missing."));
            return -1;
        }

        if (TryParseNumber(cell!, out var value))
        {
            for (var i = 0; i < target.Classes.Count; i++)
            {
                if (target.Classes[i].Value == value)
                {
                    return i;
                }
            }
        }

        problems.Add(Problem(record, column, target.Name,
            $"'{Truncate(cell!)}' is not a class of the target (allowed: {string.Join(", ", target.Classes.Select(c => c.Value))})."));
        return -1;
    }

    /// <summary>An invariant-culture number. .NET's parser reads past trailing NUL characters ("1\0" is 1); a cell
    /// holding one is not a number as written.</summary>
    // 1e400 is a number, one too large to be read: "is not a number" sent people looking for a typo.
    private static string NotANumber(string cell) =>
        !TryParseNumber(cell, out var value) ? LooksMissing(cell) ? "is not a number (a missing value is an empty cell, na or NaN)." : "is not a number."
        : double.IsNaN(value) || cell.Contains("inf", StringComparison.OrdinalIgnoreCase) || cell.Contains('∞', StringComparison.Ordinal) ? "is not a finite number."
        : "is not a finite number: it is beyond the largest number that can be read (about 1.8E+308).";

    /// <summary>A mark other tools write for a missing value (UCI's '?', a spreadsheet's #N/A), which this one does not take as one.</summary>
    private static bool LooksMissing(string cell) =>
        cell.Trim() is "?" or "-" or "--" or "." || cell.Trim().ToUpperInvariant() is "#N/A" or "N.A." or "NONE" or "MISSING";

    private static bool TryParseNumber(string cell, out double value)
    {
        value = double.NaN;
        return !cell.Contains('\0', StringComparison.Ordinal)
            && double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private DataProblem Problem(RawRecord record, int column, string field, string message) =>
        new(_source, record.Location, _columnNumbers ? column + 1 : null, field, message);

    // Escaped as column names are: a value's line break went raw into the log and the report, a second, forged line.
    private static string Truncate(string text) => Data.DatasetParser.Printable(text.Length <= 40 ? text : text[..40] + "…");
}
