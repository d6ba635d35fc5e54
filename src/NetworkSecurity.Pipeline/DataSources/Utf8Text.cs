using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Whether CSV bytes are UTF-8 text, and where they stop being: decoded with replacement characters, a Latin-1 or
/// Windows-1252 file was scored and its 'Straße' echoed back as 'Stra\uFFFDe' without a word. The check is one
/// vectorised pass over bytes already in memory (no copy); only a body that fails it is scanned again to name the place.
/// </summary>
public static class Utf8Text
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The encoding a byte order mark other than UTF-8's names (UTF-16 or UTF-32, with its byte order), or null.</summary>
    public static string? ForeignByteOrderMark(ReadOnlySpan<byte> text) =>
        text.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]) ? "UTF-32 (little-endian)"
        : text.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]) ? "UTF-32 (big-endian)"
        : text.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ? "UTF-16 (little-endian)"
        : text.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? "UTF-16 (big-endian)"
        : null;

    /// <summary>
    /// Null when <paramref name="text"/> (a UTF-8 byte order mark allowed) is UTF-8; else its first invalid byte sequence,
    /// located as other CSV problems are: the line its record starts on, its column and the header's name for it, and
    /// the byte (counted from 1, from the start of the text).
    /// </summary>
    public static DataProblem? FirstInvalid(ReadOnlySpan<byte> text, string source) =>
        FirstInvalid(text, source, "Send the CSV as UTF-8 (a spreadsheet's 'CSV UTF-8')");

    /// <param name="advice">What to do instead, first words of the message's last sentence.</param>
    internal static DataProblem? FirstInvalid(ReadOnlySpan<byte> text, string source, string advice)
    {
        var start = text.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
        if (Utf8.IsValid(text[start..]))
        {
            return null;
        }

        var bad = start + InvalidOffset(text[start..]);
        Rune.DecodeFromUtf8(text[bad..], out _, out var length);
        var bytes = string.Join(' ', text.Slice(bad, Math.Max(length, 1)).ToArray().Select(b => $"0x{b:X2}"));
        var (recordLine, physicalLine, column, field) = Locate(text[start..bad]);
        var inside = physicalLine == recordLine ? "" : $", on line {physicalLine}, inside a quoted cell";
        return new DataProblem(source, $"line {recordLine}", column, field, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the text is not UTF-8: {bytes} at byte {bad + 1:N0}{inside} is not a UTF-8 character. {advice}; other encodings, such as Latin-1 or Windows-1252, are not read."));
    }

    // Bytes before the first invalid sequence (a sequence cut short by the end counts as invalid).
    internal static int InvalidOffset(ReadOnlySpan<byte> text)
    {
        var chars = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            var at = 0;
            while (true)
            {
                var status = Utf8.ToUtf16(text[at..], chars, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
                at += read;
                if (status != OperationStatus.DestinationTooSmall)
                {
                    return at; // InvalidData: the first bad byte; Done only if IsValid was wrong, past the end
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// Where the end of <paramref name="before"/> (all valid text) is as the CSV reader sees it: the line its record
    /// starts on, the physical line, the column (from 1), and the header's name of that column once past the header.
    /// As the reader does: comma or tab (the first of them in the text), quotes open a field at its start only (blanks
    /// before allowed) and "" inside one is a quote, a line ends at LF, CRLF or a lone CR, empty lines are not records.
    /// </summary>
    private static (long RecordLine, long PhysicalLine, int Column, string? Field) Locate(ReadOnlySpan<byte> before)
    {
        var first = before.IndexOfAny((byte)',', (byte)'\t');
        var separator = first >= 0 ? before[first] : (byte)',';
        long physical = 1, recordLine = 1;
        var (column, quoted, fieldStart, content, afterCr) = (0, false, true, false, false);
        List<string>? header = null; // the header's names, once it has ended
        var cellStart = 0;
        var headerCells = new List<string>();
        for (var i = 0; i < before.Length; i++)
        {
            var b = before[i];
            var cr = afterCr;
            afterCr = b == (byte)'\r';
            if (quoted)
            {
                if (b == (byte)'"')
                {
                    if (i + 1 < before.Length && before[i + 1] == (byte)'"')
                    {
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else if ((b == (byte)'\n' && !cr) || b == (byte)'\r')
                {
                    physical++;
                }

                continue;
            }

            if (b is (byte)'\n' or (byte)'\r')
            {
                if (b == (byte)'\n' && cr)
                {
                    cellStart = i + 1;
                    continue; // the LF of a CRLF: the same line break
                }

                physical++;
                if (content && header is null)
                {
                    headerCells.Add(Name(before[cellStart..i]));
                    header = headerCells;
                }

                (recordLine, column, fieldStart, content, cellStart) = (physical, 0, true, false, i + 1);
                continue;
            }

            content = true;
            if (b == separator)
            {
                if (header is null)
                {
                    headerCells.Add(Name(before[cellStart..i]));
                }

                (column, fieldStart, cellStart) = (column + 1, true, i + 1);
            }
            else if (b == (byte)'"' && fieldStart)
            {
                (quoted, fieldStart) = (true, false);
            }
            else if (b != (byte)' ')
            {
                fieldStart = false;
            }
        }

        return (recordLine, physical, column + 1, header is not null && column < header.Count ? header[column] : null);
    }

    // A header cell's name as the reader gives it: trimmed, its quotes removed.
    private static string Name(ReadOnlySpan<byte> cell)
    {
        var name = Encoding.UTF8.GetString(cell).Trim();
        return name.Length >= 2 && name[0] == '"' && name[^1] == '"' ? name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal).Trim() : name;
    }
}
