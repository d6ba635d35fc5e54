using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Models;

/// <summary>A classification tree whose leaves hold the share of class 1 among their training rows.</summary>
public sealed class DecisionTreeModel(int featureCount, FlatTree tree) : IPersistableModel, IExplainableModel
{
    public const string ModelKind = "decision_tree";

    public string Kind => ModelKind;

    public int FeatureCount { get; } = featureCount;

    public FlatTree Tree { get; } = tree;

    public double PredictProbability(ReadOnlySpan<double> features)
    {
        PredictionInput.Check(FeatureCount, features);
        return Tree.Predict(features);
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        for (var r = 0; r < features.Rows; r++)
        {
            destination[r] = Tree.Predict(features.Row(r));
        }
    }

    public string? ExplanationUnavailableReason => ModelExplanation.MissingCover([Tree]);

    public ContributionScale ContributionScale => ContributionScale.Probability;

    public double BaseValue => TreeShap.ExpectedValue(Tree);

    public double RawOutput(ReadOnlySpan<double> features) => PredictProbability(features);

    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        ModelExplanation.EnsureAvailable(this, features, contributions);
        contributions[..FeatureCount].Clear();
        Shap.Add(features, contributions);
    }

    public void ExplainRows(FeatureMatrix features, Memory<double> contributions) => ModelExplanation.ExplainRows(this, Shap, features, contributions);

    private TreeShapEnsemble Shap => LazyInitializer.EnsureInitialized(ref _shap, ref _shapGate, () => new TreeShapEnsemble([Tree], FeatureCount));

    private TreeShapEnsemble? _shap;

    // One thread builds it while the others wait (see GradientBoostingModel).
    private object? _shapGate;

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FeatureCount);
        Tree.WriteTo(writer);
    }

    public static DecisionTreeModel ReadFrom(BinaryReader reader, int formatVersion = ModelSerializer.FormatVersion)
    {
        var featureCount = reader.ReadInt32();
        return new DecisionTreeModel(featureCount, FlatTree.ReadFrom(reader, featureCount, formatVersion));
    }
}
