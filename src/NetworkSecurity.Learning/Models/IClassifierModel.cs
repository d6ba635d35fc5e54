using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Models;

/// <summary>A trained binary classifier that returns the probability of the positive class (label 1).</summary>
public interface IClassifierModel
{
    /// <summary>Number of features a row must have.</summary>
    int FeatureCount { get; }

    /// <summary>Probability of label 1 for one row. Must not allocate.</summary>
    double PredictProbability(ReadOnlySpan<double> features);

    /// <summary>Probabilities of label 1 for every row of <paramref name="features"/>.</summary>
    void PredictProbabilities(FeatureMatrix features, Span<double> destination);
}

/// <summary>
/// An ensemble whose first <c>n</c> members form a valid smaller model (boosting stages, forest prefixes).
/// Lets a grid over the number of estimators be scored from one fit.
/// </summary>
public interface IStagedClassifierModel : IClassifierModel
{
    int StageCount { get; }

    /// <summary>Probabilities using only the first <paramref name="stages"/> members.</summary>
    void PredictProbabilities(FeatureMatrix features, int stages, Span<double> destination);
}
