using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Checks a data file's bytes as they are read, chunk by chunk, for UTF-8 (a character cut by a chunk's end is carried
/// into the next): train, evaluate, predict and push-data decoded a Latin-1 file with replacement characters, so
/// predict wrote 'Straße' back as 'Stra\uFFFDe' and training stored it so, without a word; and a UTF-16 file was decoded
/// by its byte order mark, though data files are UTF-8. The first bad byte stops the read with its place named as the
/// API names it in an upload (line, column, field, byte).
/// </summary>
internal sealed class Utf8FileCheck(string path)
{
    // Files up to this size are read again up to the bad byte to name its column and field; past it, its line alone.
    private const long LocateFully = 64L << 20;
    private const string Advice = "Save the file as UTF-8 (a spreadsheet's 'CSV UTF-8')";

    private readonly byte[] _carried = new byte[4];
    private int _carriedLength;
    private long _start; // offset in the file of the chunk being checked
    private bool _begun;

    /// <summary>Checks the next bytes read; an empty chunk is the end of the file.</summary>
    /// <exception cref="PipelineException">The bytes are not UTF-8.</exception>
    public void Check(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty)
        {
            if (_carriedLength > 0)
            {
                throw NotUtf8(_start - _carriedLength); // the file ends inside a character
            }

            return;
        }

        if (!_begun)
        {
            _begun = true;
            if (Utf8Text.ForeignByteOrderMark(chunk) is { } encoding)
            {
                throw PipelineException.At(new DataProblem(path, "line 1", null, null,
                    $"the file is {encoding} text (it starts with that byte order mark), not UTF-8. {Advice}."));
            }
        }

        var at = 0;
        if (_carriedLength > 0)
        {
            Span<byte> joined = stackalloc byte[8];
            _carried.AsSpan(0, _carriedLength).CopyTo(joined);
            var more = Math.Min(4 - _carriedLength, chunk.Length);
            chunk[..more].CopyTo(joined[_carriedLength..]);
            var status = Rune.DecodeFromUtf8(joined[..(_carriedLength + more)], out _, out var used);
            if (status == OperationStatus.NeedMoreData)
            {
                chunk[..more].CopyTo(_carried.AsSpan(_carriedLength)); // a chunk of one or two bytes
                _carriedLength += more;
                _start += more;
                return;
            }

            if (status != OperationStatus.Done)
            {
                throw NotUtf8(_start - _carriedLength);
            }

            at = used - _carriedLength;
            _carriedLength = 0;
        }

        var rest = chunk[at..];
        var cut = IncompleteEnd(rest);
        if (!Utf8.IsValid(rest[..^cut]))
        {
            throw NotUtf8(_start + at + Utf8Text.InvalidOffset(rest[..^cut]));
        }

        rest[^cut..].CopyTo(_carried);
        _carriedLength = cut;
        _start += chunk.Length;
    }

    // The bytes at the end that begin a character the chunk does not finish (0 to 3).
    private static int IncompleteEnd(ReadOnlySpan<byte> bytes)
    {
        for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: its lead is further back
            }

            var length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return length > back ? back : 0;
        }

        return 0;
    }

    private PipelineException NotUtf8(long offset)
    {
        using var file = File.OpenRead(path);
        if (offset < LocateFully)
        {
            var before = new byte[(int)Math.Min(offset + 4, file.Length)];
            file.ReadExactly(before);
            if (Utf8Text.FirstInvalid(before, path, Advice) is { } problem)
            {
                return PipelineException.At(problem);
            }
        }

        // Past the size read again whole: its line, counted as the file is read again up to the byte.
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            var (line, read) = (1L, 0L);
            while (read < offset && file.Read(buffer, 0, (int)Math.Min(buffer.Length, offset - read)) is var n and > 0)
            {
                line += buffer.AsSpan(0, n).Count((byte)'\n');
                read += n;
            }

            return PipelineException.At(new DataProblem(path, $"line {line:N0}", null, null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the text is not UTF-8: the byte at {offset + 1:N0} is not part of a UTF-8 character. {Advice}; other encodings, such as Latin-1 or Windows-1252, are not read.")));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
