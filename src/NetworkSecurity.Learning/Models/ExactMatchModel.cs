using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Serialization;

namespace NetworkSecurity.Learning.Models;

/// <summary>
/// A base model blended with what the training rows say about exact copies of a feature vector: for a vector seen
/// n times in training, p of them positive, P = (p + s·base) / (n + s), s = <see cref="Strength"/>; an unseen vector
/// gets the base model's probability unchanged. Data sets of coded features (this one has 5,785 distinct vectors in
/// 11,055 rows) repeat vectors, and a vector's own labels are the best evidence about its copies.
/// Only vectors whose values are all in {-1, 0, 1} (up to 64 features) are remembered: each packs into 128 bits.
/// </summary>
public sealed class ExactMatchModel : IPersistableModel
{
    public const string ModelKind = "exact_match";
    private const int MaxFeatures = 64;
    private readonly Dictionary<UInt128, (int Copies, int Positives)> _seen;

    public ExactMatchModel(IClassifierModel baseModel, double strength, IReadOnlyDictionary<UInt128, (int Copies, int Positives)> seen)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(seen);
        if (!(strength > 0) || double.IsInfinity(strength))
        {
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "The base model's weight must be positive and finite.");
        }

        Base = baseModel;
        Strength = strength;
        _seen = new Dictionary<UInt128, (int, int)>(seen);
    }

    public string Kind => ModelKind;

    public int FeatureCount => Base.FeatureCount;

    public IClassifierModel Base { get; }

    /// <summary>Weight of the base model's probability, in training rows.</summary>
    public double Strength { get; }

    public int RememberedVectors => _seen.Count;

    /// <summary>Packs a row of {-1, 0, 1} values into a key; false when a value is anything else or there are too many features.</summary>
    public static bool TryKey(ReadOnlySpan<double> features, out UInt128 key)
    {
        key = UInt128.Zero;
        if (features.Length > MaxFeatures)
        {
            return false;
        }

        for (var i = 0; i < features.Length; i++)
        {
            var v = features[i];
            if (v is not (-1.0 or 0.0 or 1.0))
            {
                return false;
            }

            key |= (UInt128)(uint)(v + 1) << (2 * i);
        }

        return true;
    }

    public double PredictProbability(ReadOnlySpan<double> features) => Blend(features, Base.PredictProbability(features));

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        Base.PredictProbabilities(features, destination);
        for (var r = 0; r < features.Rows; r++)
        {
            destination[r] = Blend(features.Row(r), destination[r]);
        }
    }

    private double Blend(ReadOnlySpan<double> features, double baseProbability) =>
        TryKey(features, out var key) && _seen.TryGetValue(key, out var seen)
            ? (seen.Positives + (Strength * baseProbability)) / (seen.Copies + Strength)
            : baseProbability;

    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Strength);
        writer.Write(_seen.Count);
        foreach (var (key, (copies, positives)) in _seen.OrderBy(e => e.Key))
        {
            writer.Write((ulong)(key >> 64));
            writer.Write((ulong)key);
            writer.Write(copies);
            writer.Write(positives);
        }

        ModelSerializer.Write(Base, writer);
    }

    public static ExactMatchModel ReadFrom(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var strength = reader.ReadDouble();
        var count = reader.ReadInt32();
        if (count is < 0 or > 100_000_000 || !(strength > 0) || double.IsInfinity(strength))
        {
            throw new InvalidDataException("Invalid exact-match model header.");
        }

        var seen = new Dictionary<UInt128, (int, int)>(count);
        for (var i = 0; i < count; i++)
        {
            var key = new UInt128(reader.ReadUInt64(), reader.ReadUInt64());
            var copies = reader.ReadInt32();
            var positives = reader.ReadInt32();
            if (copies < 1 || positives < 0 || positives > copies || !seen.TryAdd(key, (copies, positives)))
            {
                throw new InvalidDataException("Invalid exact-match model entry.");
            }
        }

        return new ExactMatchModel(ModelSerializer.Read(reader), strength, seen);
    }
}
