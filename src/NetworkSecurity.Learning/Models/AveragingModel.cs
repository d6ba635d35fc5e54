using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Serialization;

namespace NetworkSecurity.Learning.Models;

/// <summary>
/// A weighted mean of member models' probabilities (e.g. boosted trees and a random forest): models of different
/// kinds err on different rows, so their mean is better calibrated and more accurate on feature vectors neither saw.
/// </summary>
public sealed class AveragingModel : IPersistableModel
{
    public const string ModelKind = "average";

    /// <summary>One weight per member, each ≥ 0, with a positive finite sum (for the model and its learner alike).</summary>
    internal static void CheckWeights<T>(IReadOnlyList<T> members, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(weights);
        if (members.Count == 0 || members.Count != weights.Count)
        {
            throw new ArgumentException($"An average needs at least one member and one weight per member (got {members.Count} and {weights.Count}).", nameof(weights));
        }

        // A finite sum too: weights were divided by it, so an infinite weight made every probability NaN and two of
        // 1e308 made them all 0.
        if (weights.Any(w => !(w >= 0)) || !(weights.Sum() > 0) || double.IsInfinity(weights.Sum()))
        {
            throw new ArgumentOutOfRangeException(nameof(weights), $"Weights must be ≥ 0 with a positive, finite sum (got {string.Join(", ", weights)}).");
        }
    }

    public AveragingModel(IReadOnlyList<IClassifierModel> members, IReadOnlyList<double> weights)
    {
        CheckWeights(members, weights);

        if (members.Any(m => m.FeatureCount != members[0].FeatureCount))
        {
            throw new ArgumentException("Every member must take the same number of features.", nameof(members));
        }

        var total = weights.Sum();
        Members = [.. members];
        Weights = weights.Select(w => w / total).ToArray();
    }

    public string Kind => ModelKind;

    public int FeatureCount => Members[0].FeatureCount;

    public IClassifierModel[] Members { get; }

    /// <summary>Normalised to sum to 1.</summary>
    public double[] Weights { get; }

    public double PredictProbability(ReadOnlySpan<double> features)
    {
        double p = 0;
        for (var m = 0; m < Members.Length; m++)
        {
            p += Weights[m] * Members[m].PredictProbability(features);
        }

        return p;
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        var member = new double[features.Rows];
        destination[..features.Rows].Clear();
        for (var m = 0; m < Members.Length; m++)
        {
            Members[m].PredictProbabilities(features, member);
            for (var r = 0; r < member.Length; r++)
            {
                destination[r] += Weights[m] * member[r];
            }
        }
    }

    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Members.Length);
        for (var m = 0; m < Members.Length; m++)
        {
            writer.Write(Weights[m]);
            ModelSerializer.Write(Members[m], writer);
        }
    }

    public static AveragingModel ReadFrom(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var count = reader.ReadInt32();
        if (count is < 1 or > 64)
        {
            throw new InvalidDataException($"Invalid averaging model header: {count} members.");
        }

        var members = new IClassifierModel[count];
        var weights = new double[count];
        for (var m = 0; m < count; m++)
        {
            weights[m] = reader.ReadDouble();
            members[m] = ModelSerializer.Read(reader);
        }

        try
        {
            return new AveragingModel(members, weights);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"Invalid averaging model: {ex.Message}", ex);
        }
    }
}
