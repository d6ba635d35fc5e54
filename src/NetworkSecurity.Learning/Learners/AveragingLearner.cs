using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Learners;

/// <summary>Fits each member learner on the same rows and averages their probabilities with fixed weights.</summary>
public sealed class AveragingLearner : ILearner, IBinnedLearner
{
    public AveragingLearner(IReadOnlyList<ILearner> members, IReadOnlyList<double> weights)
    {
        AveragingModel.CheckWeights(members, weights);

        Members = [.. members];
        Weights = [.. weights];
    }

    public ILearner[] Members { get; }

    public double[] Weights { get; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels);
        return Learn(BinnedDataset.Create(features), labels, Enumerable.Range(0, features.Rows).ToArray(), features);
    }

    public IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, CancellationToken cancellationToken = default) =>
        Learn(data, labels, rows, null, cancellationToken);

    private AveragingModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, FeatureMatrix? features, CancellationToken cancellationToken = default)
    {
        TrainingInput.Check(data, labels, rows);
        var models = new IClassifierModel[Members.Length];
        for (var m = 0; m < Members.Length; m++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            models[m] = Members[m] switch
            {
                IBinnedLearner binned => binned.Learn(data, labels, rows, cancellationToken),
                var other when features is not null && rows.Length == features.Rows => other.Learn(features, labels),
                _ => throw new InvalidOperationException($"Member {Members[m].GetType().Name} cannot learn from a binned subset; average tree learners only."),
            };
        }

        return new AveragingModel(models, Weights);
    }
}
