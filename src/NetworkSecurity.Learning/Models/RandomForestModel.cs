using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Models;

/// <summary>A forest of classification trees: the probability is the mean of the trees' leaf probabilities.</summary>
public sealed class RandomForestModel(int featureCount, IReadOnlyList<FlatTree> trees) : IPersistableModel, IStagedClassifierModel, IExplainableModel
{
    public const string ModelKind = "random_forest";
    private const int BlockRows = 512;

    public string Kind => ModelKind;

    public int FeatureCount { get; } = featureCount;

    public FlatTree[] Trees { get; } = [.. trees];

    public int StageCount => Trees.Length;

    public double PredictProbability(ReadOnlySpan<double> features)
    {
        PredictionInput.Check(FeatureCount, features);
        double sum = 0;
        foreach (var tree in Trees)
        {
            sum += tree.Predict(features);
        }

        return sum / Trees.Length;
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination) => PredictProbabilities(features, Trees.Length, destination);

    public void PredictProbabilities(FeatureMatrix features, int stages, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, Trees.Length);
        var output = new double[features.Rows];
        Parallel.For(0, (features.Rows + BlockRows - 1) / BlockRows, block =>
        {
            var end = Math.Min(features.Rows, (block + 1) * BlockRows);
            for (var t = 0; t < stages; t++)
            {
                var tree = Trees[t];
                for (var r = block * BlockRows; r < end; r++)
                {
                    output[r] += tree.Predict(features.Row(r));
                }
            }

            for (var r = block * BlockRows; r < end; r++)
            {
                output[r] /= stages;
            }
        });
        output.CopyTo(destination);
    }

    public string? ExplanationUnavailableReason => ModelExplanation.MissingCover(Trees);

    public ContributionScale ContributionScale => ContributionScale.Probability;

    /// <summary>The mean of the trees' expected outputs.</summary>
    public double BaseValue => _baseValue ??= Trees.Sum(TreeShap.ExpectedValue) / Trees.Length;

    private double? _baseValue;

    public double RawOutput(ReadOnlySpan<double> features) => PredictProbability(features);

    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        ModelExplanation.EnsureAvailable(this, features, contributions);
        contributions[..FeatureCount].Clear();
        Shap.Add(features, contributions);
    }

    public void ExplainRows(FeatureMatrix features, Memory<double> contributions) => ModelExplanation.ExplainRows(this, Shap, features, contributions);

    // Prepared on the first explanation; the forest's mean is every leaf scaled by 1/trees.
    private TreeShapEnsemble Shap => LazyInitializer.EnsureInitialized(ref _shap, ref _shapGate, () => new TreeShapEnsemble(Trees, FeatureCount, 1.0 / Trees.Length));

    private TreeShapEnsemble? _shap;

    // One thread builds it while the others wait (see GradientBoostingModel).
    private object? _shapGate;

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FeatureCount);
        writer.Write(Trees.Length);
        foreach (var tree in Trees)
        {
            tree.WriteTo(writer);
        }
    }

    public static RandomForestModel ReadFrom(BinaryReader reader, int formatVersion = ModelSerializer.FormatVersion)
    {
        var featureCount = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (count is < 1 or > 1_000_000)
        {
            throw new InvalidDataException($"Invalid forest size {count}.");
        }

        var trees = new FlatTree[count];
        for (var i = 0; i < count; i++)
        {
            trees[i] = FlatTree.ReadFrom(reader, featureCount, formatVersion);
        }

        return new RandomForestModel(featureCount, trees);
    }
}
