using System.Text;

namespace NetworkSecurity.Learning.MLNet.Onnx;

/// <summary>The few protobuf wire-format primitives an ONNX model file needs (varints, strings, floats, nested messages).</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public ProtoWriter Int(int field, long value)
    {
        Tag(field, 0);
        Varint((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, value); // little-endian on every supported platform
        _buffer.Write(bytes);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    private ProtoWriter Bytes(int field, byte[] bytes)
    {
        Tag(field, 2);
        Varint((ulong)bytes.Length);
        _buffer.Write(bytes);
        return this;
    }

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _buffer.WriteByte((byte)value);
    }
}
