namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Passes text through, counting characters per physical line: the first line (the header) may be
/// <c>maxHeaderLength</c> long, every other line <c>maxLineLength</c>. Crossing a limit throws at once, so a parser
/// above never buffers more than one allowed line.
/// </summary>
internal sealed class LineLengthLimitingReader(TextReader inner, string source, int maxHeaderLength, int maxLineLength) : TextReader
{
    private int _line = 1;
    private long _lineLength;

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
            var end = text.IndexOf('\n');
            var length = end < 0 ? text.Length : end;
            _lineLength += length;
            var limit = _line == 1 ? maxHeaderLength : maxLineLength;
            if (_lineLength > limit)
            {
                throw new InputLimitException(_line == 1
                    ? $"{source}, line 1: the header is longer than {limit:N0} characters."
                    : $"{source}, line {_line}: the line is longer than {limit:N0} characters.");
            }

            if (end < 0)
            {
                return;
            }

            _line++;
            _lineLength = 0;
            text = text[(end + 1)..];
        }
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
