using System.Security.Cryptography;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Serialization;

/// <summary>
/// Reads and writes classifier models in a small versioned binary format:
/// magic "NSCM", int32 format version, kind string, then the model's own payload.
/// Version 2 adds what explanations need (tree node cover, logistic regression's training means); version 1 files
/// still load, and their models say they cannot explain.
/// Version 3 puts the kind and payload in a frame: int64 length, the bytes, then their SHA-256. A damaged file fails
/// to load instead of loading as another model (a flipped bit in a leaf value or threshold is a valid number), and
/// bytes after the model are refused.
/// </summary>
public static class ModelSerializer
{
    public const int FormatVersion = 3;
    public const int OldestReadableVersion = 1;
    private const uint Magic = 0x4D43534E; // "NSCM" little-endian
    private const int HashLength = 32;

    // Kind -> reader. Every persistable model registers here; keep it the one place that knows them all.
    private static readonly Dictionary<string, Func<BinaryReader, int, IClassifierModel>> Readers = new(StringComparer.Ordinal)
    {
        [GradientBoostingModel.ModelKind] = GradientBoostingModel.ReadFrom,
        [DecisionTreeModel.ModelKind] = DecisionTreeModel.ReadFrom,
        [RandomForestModel.ModelKind] = RandomForestModel.ReadFrom,
        [AdaBoostModel.ModelKind] = AdaBoostModel.ReadFrom,
        [LogisticRegressionModel.ModelKind] = LogisticRegressionModel.ReadFrom,
        [AveragingModel.ModelKind] = (reader, _) => AveragingModel.ReadFrom(reader),
        [ExactMatchModel.ModelKind] = (reader, _) => ExactMatchModel.ReadFrom(reader),
    };

    public static IReadOnlyCollection<string> KnownKinds => Readers.Keys;

    public static void Write(IClassifierModel model, BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(writer);
        if (model is not IPersistableModel persistable)
        {
            throw new ArgumentException($"Model type {model.GetType().Name} cannot be serialized.", nameof(model));
        }

        using var payload = new MemoryStream();
        using (var payloadWriter = new BinaryWriter(payload, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            payloadWriter.Write(persistable.Kind);
            persistable.WriteTo(payloadWriter);
        }

        var bytes = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(payload.Length);
        writer.Write(bytes);
        writer.Write(SHA256.HashData(bytes));
    }

    public static IClassifierModel Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            if (reader.ReadUInt32() != Magic)
            {
                throw new InvalidDataException("Not a NetworkSecurity classifier model (bad magic number).");
            }

            var version = reader.ReadInt32();
            if (version is < OldestReadableVersion or > FormatVersion)
            {
                throw new InvalidDataException(
                    $"Classifier model format version {version} is not supported (this build reads versions {OldestReadableVersion} to {FormatVersion}).");
            }

            return version < 3 ? ReadKindAndPayload(reader, version) : ReadFrame(reader, version);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The classifier model is truncated: it ends before the model does.", ex);
        }
        catch (ArgumentException ex)
        {
            // A model's constructor refusing what a damaged file (of a format without a hash) holds.
            throw new InvalidDataException($"The classifier model is invalid: {ex.Message}", ex);
        }
    }

    private static IClassifierModel ReadFrame(BinaryReader reader, int version)
    {
        var length = reader.ReadInt64();
        if (length is < 1 or > int.MaxValue)
        {
            throw new InvalidDataException($"Invalid classifier model length {length}.");
        }

        // Read in chunks, so a damaged length cannot allocate more than the stream holds.
        using var payload = new MemoryStream();
        var chunk = new byte[81920];
        for (var left = length; left > 0;)
        {
            var read = reader.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
            if (read == 0)
            {
                throw new InvalidDataException($"The classifier model is truncated: {payload.Length} of its {length} bytes are there.");
            }

            payload.Write(chunk, 0, read);
            left -= read;
        }

        var hash = reader.ReadBytes(HashLength);
        var bytes = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        if (hash.Length != HashLength)
        {
            throw new InvalidDataException("The classifier model is truncated: its SHA-256 is missing.");
        }

        if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(hash))
        {
            throw new InvalidDataException("The classifier model is damaged: its SHA-256 does not match its content.");
        }

        payload.Position = 0;
        using var payloadReader = new BinaryReader(payload, System.Text.Encoding.UTF8);
        var model = ReadKindAndPayload(payloadReader, version);
        if (payload.Position != payload.Length)
        {
            throw new InvalidDataException($"The classifier model has {payload.Length - payload.Position} bytes after its {((IPersistableModel)model).Kind} payload.");
        }

        return model;
    }

    private static IClassifierModel ReadKindAndPayload(BinaryReader reader, int version)
    {
        var kind = reader.ReadString();
        return Readers.TryGetValue(kind, out var read)
            ? read(reader, version)
            : throw new InvalidDataException($"Unknown classifier model kind '{kind}'. Known kinds: {string.Join(", ", Readers.Keys)}.");
    }

    public static byte[] ToBytes(IClassifierModel model)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            Write(model, writer);
        }

        return stream.ToArray();
    }

    public static IClassifierModel FromBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var model = Read(reader);
        var after = bytes.Length - reader.BaseStream.Position;
        return after == 0 ? model : throw new InvalidDataException($"The classifier model is followed by {after} more bytes.");
    }
}
