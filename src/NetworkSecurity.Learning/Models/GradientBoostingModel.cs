using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Serialization;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Models;

/// <summary>Boosted regression trees on the log-odds scale: p = sigmoid(base + Σ trees).</summary>
public sealed class GradientBoostingModel : IPersistableModel, IStagedClassifierModel, IExplainableModel
{
    public const string ModelKind = "gbdt";
    private const int BlockRows = 512;

    public GradientBoostingModel(int featureCount, double baseScore, IReadOnlyList<FlatTree> trees)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureCount);
        FeatureCount = featureCount;
        BaseScore = baseScore;
        Trees = [.. trees];
        // Batch layouts are built on first use: many models of a search are scored once, or never in batch.
        _quantized = new Lazy<QuantizedTrees?>(() => QuantizedTrees.TryCreate(Trees, featureCount));
        _leafMasks = new Lazy<LeafMaskTrees?>(() => LeafMaskTrees.TryCreate(Trees, featureCount));
    }

    private readonly Lazy<QuantizedTrees?> _quantized;

    // Single rows: built on first use too (a search scores single rows rarely).
    private readonly Lazy<LeafMaskTrees?> _leafMasks;

    public string Kind => ModelKind;

    public int FeatureCount { get; }

    public double BaseScore { get; }

    public FlatTree[] Trees { get; }

    public int StageCount => Trees.Length;

    public double PredictProbability(ReadOnlySpan<double> features) => Sigmoid(RawScore(features, Trees.Length));

    /// <summary>The log-odds after the first <paramref name="stages"/> trees; every tree by leaf masks when they exist (same sum).</summary>
    public double RawScore(ReadOnlySpan<double> features, int stages)
    {
        PredictionInput.Check(FeatureCount, features);
        ArgumentOutOfRangeException.ThrowIfNegative(stages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, Trees.Length);
        if (stages == Trees.Length && _leafMasks.Value is { } masks)
        {
            return masks.Sum(features, BaseScore);
        }

        var score = BaseScore;
        var trees = Trees;
        for (var t = 0; t < stages; t++)
        {
            score += trees[t].Predict(features);
        }

        return score;
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination) => PredictProbabilities(features, Trees.Length, destination);

    public void PredictProbabilities(FeatureMatrix features, int stages, Span<double> destination)
    {
        RawScores(features, stages, destination);
        for (var r = 0; r < features.Rows; r++)
        {
            destination[r] = Sigmoid(destination[r]);
        }
    }

    /// <summary>
    /// The log-odds of every row: the base score, then tree by tree in order (so each row's sum is exactly the one
    /// <see cref="RawScore"/> gives).
    /// </summary>
    public void RawScores(FeatureMatrix features, int stages, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(stages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, Trees.Length);

        var output = new double[features.Rows];
        var blocks = (features.Rows + BlockRows - 1) / BlockRows;

        // Blocks of rows in parallel; within a block, tree by tree so each tree stays in cache.
        Parallel.For(0, blocks, block =>
        {
            var start = block * BlockRows;
            var end = Math.Min(features.Rows, start + BlockRows);
            for (var r = start; r < end; r++)
            {
                output[r] = BaseScore;
            }

            var values = features.Values;
            var columns = features.Columns;
            if (_quantized.Value is { } quantized)
            {
                var codes = new byte[(end - start) * columns];
                quantized.Encode(values, start, end, codes);
                for (var t = 0; t < stages; t++)
                {
                    quantized.AddTo(t, codes, end - start, output, start);
                }
            }
            else
            {
                // Only for trees not made by this library's binner (over 254 thresholds on a feature).
                for (var t = 0; t < stages; t++)
                {
                    for (var r = start; r < end; r++)
                    {
                        output[r] += Trees[t].Predict(features.Row(r));
                    }
                }
            }

        });
        output.CopyTo(destination);
    }

    public string? ExplanationUnavailableReason => ModelExplanation.MissingCover(Trees);

    public ContributionScale ContributionScale => ContributionScale.LogOdds;

    /// <summary>The prior log-odds plus every tree's expected output.</summary>
    public double BaseValue => _baseValue ??= BaseScore + Trees.Sum(TreeShap.ExpectedValue);

    private double? _baseValue;

    public double RawOutput(ReadOnlySpan<double> features) => RawScore(features, Trees.Length);

    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        ModelExplanation.EnsureAvailable(this, features, contributions);
        contributions[..FeatureCount].Clear();
        Shap.Add(features, contributions);
    }

    public void ExplainRows(FeatureMatrix features, Memory<double> contributions) => ModelExplanation.ExplainRows(this, Shap, features, contributions);

    // Prepared on the first explanation (most models of a search never explain); thread-safe.
    private TreeShapEnsemble Shap => LazyInitializer.EnsureInitialized(ref _shap, ref _shapGate, () => new TreeShapEnsemble(Trees, FeatureCount));

    private TreeShapEnsemble? _shap;

    // Built by one thread while the others wait: the two-argument overload let every thread that asked at once build its
    // own (tens of MB each); a training run's importance loop, on a 16-thread pool floor, peaked at 5.9 GB.
    private object? _shapGate;

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FeatureCount);
        writer.Write(BaseScore);
        writer.Write(Trees.Length);
        foreach (var tree in Trees)
        {
            tree.WriteTo(writer);
        }
    }

    public static GradientBoostingModel ReadFrom(BinaryReader reader, int formatVersion = ModelSerializer.FormatVersion)
    {
        var featureCount = reader.ReadInt32();
        var baseScore = reader.ReadDouble();
        var count = reader.ReadInt32();
        if (featureCount <= 0 || count < 0 || count > 1_000_000)
        {
            throw new InvalidDataException("Invalid gradient boosting model header.");
        }

        var trees = new FlatTree[count];
        for (var i = 0; i < count; i++)
        {
            trees[i] = FlatTree.ReadFrom(reader, featureCount, formatVersion);
        }

        return new GradientBoostingModel(featureCount, baseScore, trees);
    }
}
