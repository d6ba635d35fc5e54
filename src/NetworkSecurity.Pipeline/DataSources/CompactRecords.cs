using System.Collections;

namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// A CSV's records as read, kept compactly: each cell as a two-byte code of its distinct text (website records hold a
/// handful: "-1", "0", "1") and each record's line as a number; a <see cref="RawRecord"/> is built again when one is
/// read. Kept as objects (an array of 31 references, the record and its "line N" string) they took about 360 bytes a
/// row, the largest part of training's memory while the file was parsed; these take 66. A record with another number
/// of fields than the header is kept as read, and so is every record once the codes run out (over 65,535 distinct texts).
/// </summary>
internal sealed class CompactRecords(int width) : IReadOnlyList<RawRecord>
{
    private const int ChunkRows = 1 << 14;
    private readonly Dictionary<string, ushort> _codes = new(StringComparer.Ordinal);
    private readonly List<string?> _texts = [null]; // code 0: a missing cell
    private readonly List<ushort[]> _cells = [];
    private readonly List<int[]> _lines = [];
    private readonly Dictionary<int, RawRecord> _asRead = [];
    private List<RawRecord>? _plain;

    public int Count { get; private set; }

    public void Add(long line, RawRecord record)
    {
        if (_plain is null && record.Problem is null && record.Values.Length == width && line <= int.MaxValue && TryEncode(record.Values))
        {
            _lines[Count / ChunkRows][Count % ChunkRows] = (int)line;
        }
        else if (_plain is not null)
        {
            _plain.Add(record);
        }
        else
        {
            _asRead[Count] = record;
        }

        Count++;
    }

    private bool TryEncode(string?[] values)
    {
        while (_cells.Count <= Count / ChunkRows)
        {
            _cells.Add(new ushort[ChunkRows * width]);
            _lines.Add(new int[ChunkRows]);
        }

        var cells = _cells[Count / ChunkRows].AsSpan((Count % ChunkRows) * width, width);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is not { } text)
            {
                cells[i] = 0;
            }
            else if (_codes.TryGetValue(text, out var code))
            {
                cells[i] = code;
            }
            else if (_texts.Count <= ushort.MaxValue)
            {
                cells[i] = (ushort)_texts.Count;
                _codes.Add(text, cells[i]);
                _texts.Add(text);
            }
            else
            {
                // Out of codes (free text, or many distinct numbers): the records so far as objects, and the rest too.
                _plain = [.. this];
                _cells.Clear();
                _lines.Clear();
                _asRead.Clear();
                return false;
            }
        }

        return true;
    }

    public RawRecord this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            if (_plain is not null)
            {
                return _plain[index];
            }

            if (_asRead.TryGetValue(index, out var record))
            {
                return record;
            }

            var cells = _cells[index / ChunkRows].AsSpan((index % ChunkRows) * width, width);
            var values = new string?[width];
            for (var i = 0; i < width; i++)
            {
                values[i] = _texts[cells[i]];
            }

            return new RawRecord($"line {_lines[index / ChunkRows][index % ChunkRows]}", values);
        }
    }

    public IEnumerator<RawRecord> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
