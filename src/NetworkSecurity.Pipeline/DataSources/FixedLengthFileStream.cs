namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// A file read only as far as it reached when it was opened (or a length measured before): a file that grows meanwhile,
/// still being written or appended to without end, is refused as soon as a read passes that length, instead of being
/// read for as long as it grows (predict read a file that a writer kept appending to for minutes, train into gigabytes).
/// Data files are UTF-8: its bytes are checked as they are read (<see cref="Utf8FileCheck"/>).
/// </summary>
public sealed class FixedLengthFileStream : Stream
{
    private readonly FileStream _inner;
    private readonly Func<long, Exception> _grew;
    private readonly Action<long>? _onRead;
    private readonly Utf8FileCheck _utf8;
    private long _read;

    /// <param name="grew">The exception to throw, given the length the file had.</param>
    /// <param name="length">The length it had, when measured before it was opened; else its length now.</param>
    /// <param name="onRead">Told the bytes read so far after each read, for progress.</param>
    public FixedLengthFileStream(string path, Func<long, Exception> grew, long? length = null, Action<long>? onRead = null)
    {
        ArgumentNullException.ThrowIfNull(grew);
        _inner = File.OpenRead(path);
        _grew = grew;
        _onRead = onRead;
        _utf8 = new Utf8FileCheck(path);
        Length = length ?? _inner.Length;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length { get; }

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Count(buffer, _inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Count(buffer.Span, read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(ReadOnlySpan<byte> buffer, int read)
    {
        _read += read;
        if (_read > Length)
        {
            throw _grew(Length);
        }

        _utf8.Check(buffer[..read]);

        _onRead?.Invoke(_read);
        return read;
    }
}
