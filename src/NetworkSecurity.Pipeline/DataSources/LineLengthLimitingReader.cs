using System.Buffers;

namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Passes text through, counting characters per line as the CSV parser above sees lines: the first line with text (the header)
/// may be <c>maxHeaderLength</c> long, every other line <c>maxLineLength</c>. Crossing a limit throws at once, so the
/// parser never buffers more than one allowed line. As the parser does, a line ends at LF, CRLF or a lone CR, and a
/// quoted field's line breaks belong to its line: an unclosed quote, or a 50 MB quoted cell broken into short lines,
/// is one long line, not many short ones (it was buffered whole before its cell length was checked: 4.5 GB for 1 GB).
/// </summary>
internal sealed class LineLengthLimitingReader(TextReader inner, string source, int maxHeaderLength, int maxLineLength) : TextReader
{
    // Only these change the state; everything between them is counted in one vectorised step.
    private static readonly SearchValues<char> Stops = SearchValues.Create("\"\r\n");

    private int _line = 1; // physical line of the next character
    private int _startLine = 1; // physical line where the current (logical) line started
    private int _headerLine; // the first line with any text (the parser skips blank lines before it); 0 until then
    private long _lineLength;
    private bool _quoted; // inside a quoted field
    private bool _quotePending; // a read ended on a quote inside a quoted field: closing, or the first of ""
    private bool _fieldStart = true; // only blanks since the line start or a delimiter: a quote here opens a field
    private bool _afterCr; // the last character was CR: an LF now ends the same line break

    public override int Peek() => inner.Peek();

    public override int Read()
    {
        var c = inner.Read();
        if (c >= 0)
        {
            Count([(char)c]);
        }

        return c;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        var read = inner.Read(buffer);
        Count(buffer[..read]);
        return read;
    }

    public override int ReadBlock(Span<char> buffer)
    {
        var read = inner.ReadBlock(buffer);
        Count(buffer[..read]);
        return read;
    }

    public override int ReadBlock(char[] buffer, int index, int count) => ReadBlock(buffer.AsSpan(index, count));

    public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(char[] buffer, int index, int count) => Task.FromResult(Read(buffer.AsSpan(index, count)));

    private void Count(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (_quotePending)
            {
                _quotePending = false;
                if (text[0] == '"')
                {
                    Add(1); // the second quote of "": still inside the field
                    _afterCr = false;
                    text = text[1..];
                    continue;
                }

                _quoted = false; // the quote closed the field
            }

            var stop = text.IndexOfAny(Stops);
            var run = stop < 0 ? text : text[..stop];
            if (!run.IsEmpty)
            {
                Add(run.Length);
                _afterCr = false;
                if (!_quoted && run.LastIndexOfAnyExcept(' ') is var last and >= 0)
                {
                    _fieldStart = run[last] is ',' or '\t';
                }
            }

            if (stop < 0)
            {
                return;
            }

            var c = text[stop];
            text = text[(stop + 1)..];
            if (c == '"')
            {
                Add(1);
                _afterCr = false;
                if (_quoted)
                {
                    _quotePending = true; // decided by the next character, which may be in the next read
                }
                else
                {
                    // A quote after other text in an unquoted field is the parser's error to report, not a field.
                    _quoted = _fieldStart;
                    _fieldStart = false;
                }

                continue;
            }

            // A line break: CR, LF, or the LF of a CRLF (the same break, not a new line).
            if (!(c == '\n' && _afterCr))
            {
                _line++;
            }

            _afterCr = c == '\r';
            if (_quoted)
            {
                Add(1); // part of the quoted cell, and of its line
            }
            else
            {
                _startLine = _line;
                _lineLength = 0;
                _fieldStart = true;
            }
        }
    }

    private void Add(int characters)
    {
        _lineLength += characters;
        if (_headerLine == 0)
        {
            _headerLine = _startLine;
        }

        var header = _startLine == _headerLine;
        var limit = header ? maxHeaderLength : maxLineLength;
        if (_lineLength <= limit)
        {
            return;
        }

        var what = header ? "the header" : "the line";
        var quote = _line > _startLine ? $" (a quoted field that starts on it runs on past line {_line}: check for a missing closing quote)" : "";
        throw new InputLimitException($"{source}, line {_startLine}: {what} is longer than {limit:N0} characters{quote}.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
