using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Learners;

/// <summary>Fits the base learner, then remembers each training feature vector's copies and labels (see <see cref="ExactMatchModel"/>).</summary>
public sealed class ExactMatchLearner : ILearner
{
    public ExactMatchLearner(ILearner baseLearner, double strength)
    {
        ArgumentNullException.ThrowIfNull(baseLearner);
        if (!(strength > 0) || double.IsInfinity(strength))
        {
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "exact_match (the base model's weight) must be positive and finite.");
        }

        Base = baseLearner;
        Strength = strength;
    }

    public ILearner Base { get; }

    public double Strength { get; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels); // the copies' labels are counted below, whatever the base learner checks
        var model = Base.Learn(features, labels);
        var seen = new Dictionary<UInt128, (int Copies, int Positives)>();
        for (var r = 0; r < features.Rows; r++)
        {
            if (ExactMatchModel.TryKey(features.Row(r), out var key))
            {
                var (copies, positives) = seen.GetValueOrDefault(key);
                seen[key] = (copies + 1, positives + labels[r]);
            }
        }

        return new ExactMatchModel(model, Strength, seen);
    }
}
