using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Serialization;

/// <summary>
/// Reads and writes classifier models in a small versioned binary format:
/// magic "NSCM", int32 format version, kind string, then the model's own payload.
/// Version 2 adds what explanations need (tree node cover, logistic regression's training means); version 1 files
/// still load, and their models say they cannot explain.
/// </summary>
public static class ModelSerializer
{
    public const int FormatVersion = 2;
    public const int OldestReadableVersion = 1;
    private const uint Magic = 0x4D43534E; // "NSCM" little-endian

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

        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(persistable.Kind);
        persistable.WriteTo(writer);
    }

    public static IClassifierModel Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
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
        using var reader = new BinaryReader(new MemoryStream(bytes));
        return Read(reader);
    }
}
