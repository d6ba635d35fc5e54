using CsvHelper;

namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Reads CSV text into a <see cref="RawTable"/>: header row, any column order, comma or tab delimiter
/// (detected), UTF-8 with or without BOM, LF or CRLF line ends. Records carry their physical line number.
/// </summary>
public static class CsvTableReader
{
    /// <param name="recordLimit">The most records kept: one more is refused (<see cref="RecordLimit.Refuse"/>) as soon
    /// as it is read, before the rest of the file.</param>
    public static RawTable Read(TextReader reader, string source, CsvLimits? limits = null, CancellationToken cancellationToken = default, RecordLimit? recordLimit = null)
    {
        var (columns, records, headerLine) = OpenNumbered(reader, source, limits);
        var most = (recordLimit ?? RecordLimit.None).MaxRecords;
        var kept = new CompactRecords(columns.Count);
        foreach (var (line, record) in records)
        {
            // A large file takes seconds to read: a stop request (Ctrl+C, SIGTERM) is heard while it is read.
            if ((kept.Count & 4095) == 4095)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (kept.Count == most)
            {
                throw recordLimit!.Refuse(source, $"{record.Location} is record {most + 1L:N0}");
            }

            kept.Add(line, record);
        }

        return new RawTable(source, columns, kept, HeaderLine: headerLine);
    }

    /// <summary>A data file from disk, within <see cref="CsvLimits.Files"/>.</summary>
    /// <exception cref="PipelineException">Not a regular file, or past the limits.</exception>
    public static RawTable ReadFile(string path, CancellationToken cancellationToken = default, RecordLimit? recordLimit = null)
    {
        CheckFile(path);
        using var reader = new StreamReader(
            new FixedLengthFileStream(path, length => new PipelineException($"Data file '{path}' grew while it was read (past the {length:N0} bytes it had when opened): it is still being written. Give a copy that does not change.")),
            detectEncodingFromByteOrderMarks: true);
        try
        {
            return Read(reader, path, CsvLimits.Files, cancellationToken, recordLimit);
        }
        catch (InputLimitException ex)
        {
            throw new PipelineException($"{ex.Message} This is not a file of website records.");
        }
    }

    /// <summary>
    /// Refuses a folder, a missing file, and a device, pipe or socket: /dev/zero as training data was read into memory
    /// without end (12 GB in 25 s).
    /// </summary>
    public static void CheckFile(string path)
    {
        if (Directory.Exists(path))
        {
            throw new PipelineException($"Data file '{path}' is a folder; give the CSV file.");
        }

        if (!File.Exists(path))
        {
            throw new PipelineException($"Data file '{path}' does not exist.");
        }

        if (!Artifacts.FileKind.IsRegularFile(path))
        {
            throw new PipelineException($"Data file '{path}' is not a regular file (a device, pipe or socket); save the data to a file first.");
        }
    }

    /// <summary>
    /// Reads the header and returns the records lazily, so large inputs can be streamed. With <paramref name="limits"/>,
    /// a header, line or cell longer than allowed, or too many columns, throws <see cref="InputLimitException"/> as
    /// soon as it is seen.
    /// </summary>
    public static OpenedCsv Open(TextReader reader, string source, CsvLimits? limits = null)
    {
        var (columns, records, headerLine) = OpenNumbered(reader, source, limits);
        return new OpenedCsv(columns, records.Select(r => r.Record), headerLine);
    }

    // Open, with each record's line as a number (kept so by Read rather than as "line N" strings).
    private static (IReadOnlyList<string> Columns, IEnumerable<(long Line, RawRecord Record)> Records, int HeaderLine) OpenNumbered(TextReader reader, string source, CsvLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(reader);
        limits ??= CsvLimits.None;
        if (limits != CsvLimits.None)
        {
            reader = new LineLengthLimitingReader(reader, source, limits.MaxHeaderLength, limits.MaxLineLength);
        }

        var csv = CsvReader.Create(reader, Options, leaveOpen: true);
        try
        {
            csv.ReadHeader();
        }
        catch (CsvFormatException ex)
        {
            csv.Dispose();
            throw PipelineException.At(new DataProblem(source, $"line {ex.LineNumber}", ex.FieldIndex >= 0 ? ex.FieldIndex + 1 : null, null, $"malformed header ({Reason(ex.Message)})."));
        }

        var columns = csv.Headers.Select(h => h.Trim('\uFEFF').Trim()).ToArray();
        // After blank lines the header is not on line 1: every problem with it names the line it is on.
        var headerLine = (int)Math.Clamp(csv.LineNumber, 1, int.MaxValue);
        if (columns.Length > limits.MaxColumns)
        {
            csv.Dispose();
            throw new InputLimitException($"{source}, line {headerLine}: the header has {columns.Length:N0} columns; at most {limits.MaxColumns:N0} are accepted.");
        }

        if (columns.FirstOrDefault(c => c.Length > limits.MaxCellLength) is { } longName)
        {
            csv.Dispose();
            throw new InputLimitException($"{source}, line {headerLine}: a column name is {longName.Length:N0} characters long; at most {limits.MaxCellLength:N0} are accepted.");
        }

        if (columns.Length == 0 || (columns.Length == 1 && columns[0].Length == 0))
        {
            csv.Dispose();
            throw PipelineException.At(new DataProblem(source, "line 1", null, null, "the file is empty (expected a header row and data rows)."));
        }

        // One column is a table too (the records of a one-feature schema, to score): only one that looks separated by
        // another character is refused here; any other odd name is then named by the schema's column check.
        var otherSeparator = columns.Length == 1 && (columns[0].Contains(';', StringComparison.Ordinal) || columns[0].Contains('|', StringComparison.Ordinal));
        if (csv.Separator is not (',' or '\t') || otherSeparator)
        {
            var separator = csv.Separator;
            csv.Dispose();
            var found = otherSeparator ? " It looks separated by ';' or '|'." : $" It looks separated by '{separator}'.";
            throw PipelineException.At(SeparatorProblem(source, headerLine, found));
        }

        // A name may have a space inside (a one-feature schema's "URL Length" was refused as a space-separated file): one
        // column with spaces is taken for spaces between columns only when its first record has spaces too. Its first
        // record is read here, not when the records are: the caller checks the columns first, and a file separated by
        // spaces was refused as missing every column of the schema.
        bool? first = null;
        if (columns.Length == 1 && columns[0].Contains(' ', StringComparison.Ordinal))
        {
            try
            {
                first = Next(csv, source);
            }
            catch
            {
                csv.Dispose();
                throw;
            }

            if (first.Value && csv.FieldCount == 1 && csv.GetString(0)?.Contains(' ', StringComparison.Ordinal) == true)
            {
                csv.Dispose();
                throw PipelineException.At(SeparatorProblem(source, headerLine, " It looks separated by spaces."));
            }
        }

        return (columns, ReadRecords(csv, columns.Length, source, limits.MaxCellLength, headerLine, first), headerLine);
    }

    private static DataProblem SeparatorProblem(string source, int headerLine, string found) =>
        new(source, $"line {headerLine}", null, null, $"expected comma- or tab-separated columns.{found}");

    private static CsvReaderOptions Options { get; } = new()
    {
        HasHeader = true,
        DetectSeparatorHint = true,
        TrackLineNumbers = true,
        SkipEmptyLines = true,
        TrimWhitespace = true,
        PoolStrings = true, // "-1", "0", "1" repeat millions of times in a large upload.
        FieldCountMismatch = CsvFieldCountHandling.Allow,
        MalformedData = CsvMalformedDataHandling.Throw,
    };

    /// <param name="first">Whether the first record was read already (Open looked at it), or null when it was not.</param>
    private static IEnumerable<(long Line, RawRecord Record)> ReadRecords(CsvReader csv, int columnCount, string source, int maxCellLength, int headerLine, bool? first)
    {
        using (csv)
        {
            var any = false;
            var nextLine = headerLine + 1L; // the line a record starts on when no empty line comes first
            while (first ?? Next(csv, source))
            {
                first = null;
                any = true;
                var line = csv.LineNumber;
                // One column's empty cell is an empty line, which the parser skips: the record was lost without a word
                // (a file of 3 sites scored as 2). Each empty line between the header and a record is a record whose
                // value is missing, as an empty cell is in a wider file; empty lines at the end only end the file.
                for (; columnCount == 1 && nextLine < line; nextLine++)
                {
                    yield return (nextLine, new RawRecord($"line {nextLine}", [""]));
                }

                nextLine = line + 1 + LineBreaks(csv.RawRecord);
                // Another number of fields is this record's problem, not the file's: it is set aside or listed with
                // every other bad record (its fields cannot be matched to columns, so none of them is read).
                var fields = csv.FieldCount;
                var values = new string?[fields];
                for (var i = 0; i < fields; i++)
                {
                    values[i] = csv.GetString(i);
                    if (values[i]?.Length > maxCellLength)
                    {
                        throw new InputLimitException($"{source}, line {line}, column {i + 1}: the cell is {values[i]!.Length:N0} characters long; at most {maxCellLength:N0} are accepted.");
                    }
                }

                yield return (line, fields == columnCount
                    ? new RawRecord($"line {line}", values)
                    : new RawRecord($"line {line}", values, $"{fields} fields but the header has {columnCount} (check the delimiter and quoting)."));
            }

            if (!any)
            {
                throw PipelineException.At(new DataProblem(source, $"line {headerLine + 1}", null, null, "the file has a header row but no data rows."));
            }
        }
    }

    // The line breaks inside a record (a quoted cell over several lines): CR, LF and CR LF each count once.
    private static int LineBreaks(ReadOnlySpan<byte> record)
    {
        var count = 0;
        for (var i = 0; i < record.Length; i++)
        {
            if (record[i] == (byte)'\n' || (record[i] == (byte)'\r' && (i + 1 == record.Length || record[i + 1] != (byte)'\n')))
            {
                count++;
            }
        }

        return count;
    }

    // The reader's message repeats where ("Malformed CSV in record 4 (line 4): ..."), which the problem already says.
    // Its closing full stop too: the problem's own sentence ends after the parenthesis.
    private static string Reason(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"^Malformed CSV in record \d+ \(line \d+\):\s*", "").TrimEnd('.');

    private static bool Next(CsvReader csv, string source)
    {
        try
        {
            return csv.Read();
        }
        catch (CsvFormatException ex)
        {
            var problem = new DataProblem(source, $"line {ex.LineNumber}", ex.FieldIndex >= 0 ? ex.FieldIndex + 1 : null, null, $"malformed CSV ({Reason(ex.Message)}).");
            throw PipelineException.At(problem);
        }
    }
}

/// <summary>
/// A CSV opened by <see cref="CsvTableReader.Open"/>: its columns, its records (read lazily) and the line its header is
/// on (later than 1 after blank lines).
/// </summary>
public sealed record OpenedCsv(IReadOnlyList<string> Columns, IEnumerable<RawRecord> Records, int HeaderLine)
{
    public void Deconstruct(out IReadOnlyList<string> columns, out IEnumerable<RawRecord> records) => (columns, records) = (Columns, Records);
}
