using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Models;

/// <summary>
/// SAMME ensemble for two classes: decision = Σ αₘ·(+1 if tree m votes class 1, else −1) / Σ αₘ, and
/// P(class 1) = sigmoid(decision), as scikit-learn's AdaBoostClassifier(algorithm="SAMME").predict_proba.
/// </summary>
public sealed class AdaBoostModel : IPersistableModel, IStagedClassifierModel, IExplainableModel
{
    public const string ModelKind = "ada_boost";

    public AdaBoostModel(int featureCount, IReadOnlyList<FlatTree> trees, IReadOnlyList<double> weights)
    {
        if (trees.Count != weights.Count || trees.Count == 0)
        {
            throw new ArgumentException("AdaBoost needs one weight per tree and at least one tree.");
        }

        FeatureCount = featureCount;
        Trees = [.. trees];
        Weights = [.. weights];
    }

    public string Kind => ModelKind;

    public int FeatureCount { get; }

    public FlatTree[] Trees { get; }

    public double[] Weights { get; }

    public int StageCount => Trees.Length;

    public double PredictProbability(ReadOnlySpan<double> features)
    {
        PredictionInput.Check(FeatureCount, features);
        return Probability(features, Trees.Length);
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination) => PredictProbabilities(features, Trees.Length, destination);

    public void PredictProbabilities(FeatureMatrix features, int stages, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, Trees.Length);
        for (var r = 0; r < features.Rows; r++)
        {
            destination[r] = Probability(features.Row(r), stages);
        }
    }

    private double Probability(ReadOnlySpan<double> features, int stages)
    {
        double vote = 0, total = 0;
        for (var m = 0; m < stages; m++)
        {
            vote += Trees[m].Predict(features) > 0.5 ? Weights[m] : -Weights[m];
            total += Weights[m];
        }

        return GradientBoostingModel.Sigmoid(total > 0 ? vote / total : 0);
    }

    public string? ExplanationUnavailableReason => ModelExplanation.MissingCover(Trees);

    /// <summary>The decision Σ αₘ·vote / Σ α is the log-odds: P = sigmoid(decision).</summary>
    public ContributionScale ContributionScale => ContributionScale.LogOdds;

    public double BaseValue => _baseValue ??= VoteTrees.Sum(TreeShap.ExpectedValue);

    private double? _baseValue;
    private FlatTree[]? _voteTrees;

    // Each tree with its leaves replaced by its signed, normalised vote, so the decision is a sum of trees.
    private FlatTree[] VoteTrees => _voteTrees ??= Trees.Select((tree, m) =>
    {
        var total = Weights.Sum();
        var weight = total > 0 ? Weights[m] / total : 0;
        return tree.MapLeaves(v => v > 0.5 ? weight : -weight);
    }).ToArray();

    public double RawOutput(ReadOnlySpan<double> features)
    {
        PredictionInput.Check(FeatureCount, features);
        double vote = 0, total = 0;
        for (var m = 0; m < Trees.Length; m++)
        {
            vote += Trees[m].Predict(features) > 0.5 ? Weights[m] : -Weights[m];
            total += Weights[m];
        }

        return total > 0 ? vote / total : 0;
    }

    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        ModelExplanation.EnsureAvailable(this, features, contributions);
        contributions[..FeatureCount].Clear();
        Shap.Add(features, contributions);
    }

    public void ExplainRows(FeatureMatrix features, Memory<double> contributions) => ModelExplanation.ExplainRows(this, Shap, features, contributions);

    private TreeShapEnsemble Shap => LazyInitializer.EnsureInitialized(ref _shap, ref _shapGate, () => new TreeShapEnsemble(VoteTrees, FeatureCount));

    private TreeShapEnsemble? _shap;

    // One thread builds it while the others wait (see GradientBoostingModel).
    private object? _shapGate;

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FeatureCount);
        writer.Write(Trees.Length);
        for (var i = 0; i < Trees.Length; i++)
        {
            writer.Write(Weights[i]);
            Trees[i].WriteTo(writer);
        }
    }

    public static AdaBoostModel ReadFrom(BinaryReader reader, int formatVersion = ModelSerializer.FormatVersion)
    {
        var featureCount = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (count is < 1 or > 1_000_000)
        {
            throw new InvalidDataException($"Invalid AdaBoost size {count}.");
        }

        var trees = new FlatTree[count];
        var weights = new double[count];
        for (var i = 0; i < count; i++)
        {
            weights[i] = reader.ReadDouble();
            trees[i] = FlatTree.ReadFrom(reader, featureCount, formatVersion);
        }

        return new AdaBoostModel(featureCount, trees, weights);
    }
}
