using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// A trained ML.NET binary model behind our model interface. Batches go through ML.NET's vectorised
/// <see cref="ITransformer.Transform"/>; single rows (and tiny batches) through a pool of prediction engines, because
/// one <see cref="PredictionEngine{TSrc,TDst}"/> must not be used by two threads at once. Persisted as ML.NET's own
/// model zip, which any ML.NET app loads with <c>MLContext.Model.Load</c>.
/// When ML.NET's trees can be read (<see cref="MLNetTreeEnsemble"/>: FastTree and LightGBM), rows without missing
/// values are scored from those trees, with exactly ML.NET's arithmetic and without an engine, and explained with
/// TreeSHAP; the zip stays the model, and the trees' cover is persisted beside it (<see cref="WriteCover"/>).
/// </summary>
public sealed class MLNetModel : IExplainableModel
{
    /// <summary>Up to this many rows a batch is scored row by row with pooled engines: cheaper than building a data view.</summary>
    private const int SmallBatch = 16;

    private readonly MLContext _context;
    private readonly ITransformer _transformer;
    private readonly DataViewSchema _inputSchema;
    private readonly SchemaDefinition _inputDefinition;
    private readonly ConcurrentBag<Scorer> _scorers = [];

    // MLContext is not documented as safe for concurrent use: building views and engines goes through it one at a
    // time (cheap: both are lazy); the cursors that do the scoring then run concurrently.
    private readonly Lock _contextGate = new();

    private readonly MLNetTreeEnsemble? _trees;
    private readonly string? _treesUnreadable;

    internal MLNetModel(
        MLContext context, ITransformer transformer, DataViewSchema inputSchema, int featureCount, MLNetTrainer trainer, FeatureMatrix? coverRows = null)
        : this(context, transformer, inputSchema, featureCount, trainer, MLNetTreeEnsemble.TryRead(transformer, featureCount, out var unreadable), unreadable)
    {
        if (_trees is not null && coverRows is not null)
        {
            _trees = _trees.WithCover(coverRows);
        }
    }

    // The same model with other trees (their cover read back): ML.NET's trees are not read again.
    private MLNetModel(MLNetModel model, MLNetTreeEnsemble trees)
        : this(model._context, model._transformer, model._inputSchema, model.FeatureCount, model.Trainer, trees, null)
    {
    }

    private MLNetModel(
        MLContext context, ITransformer transformer, DataViewSchema inputSchema, int featureCount, MLNetTrainer trainer, MLNetTreeEnsemble? trees, string? treesUnreadable)
    {
        _context = context;
        _transformer = transformer;
        _inputSchema = inputSchema;
        _inputDefinition = MLNetInputRow.Schema(featureCount);
        FeatureCount = featureCount;
        Trainer = trainer;
        _trees = trees;
        _treesUnreadable = treesUnreadable;
    }

    /// <summary>ML.NET's trees as ours, or null when they cannot be read (then only ML.NET's engine scores).</summary>
    public MLNetTreeEnsemble? Trees => _trees;

    public int FeatureCount { get; }

    public MLNetTrainer Trainer { get; }

    /// <summary>The ML.NET transformer (for callers that want to use ML.NET directly).</summary>
    public ITransformer Transformer => _transformer;

    public double PredictProbability(ReadOnlySpan<double> features)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Length}.", nameof(features));
        }

        // ML.NET sends a missing value (NaN) right and our trees send it left: such rows go to ML.NET's engine.
        if (_trees is not null && !FeatureMatrix.HasMissing(features))
        {
            return _trees.Probability(features);
        }

        var scorer = Rent();
        try
        {
            return scorer.Predict(features);
        }
        finally
        {
            _scorers.Add(scorer);
        }
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Columns != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Columns}.", nameof(features));
        }

        if (destination.Length < features.Rows)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; {features.Rows} needed.", nameof(destination));
        }

        if (_trees is not null && !FeatureMatrix.HasMissing(features.Values))
        {
            ScoreWithTrees(_trees, features, destination);
            return;
        }

        if (features.Rows <= SmallBatch)
        {
            var scorer = Rent();
            try
            {
                for (var i = 0; i < features.Rows; i++)
                {
                    destination[i] = scorer.Predict(features.Row(i));
                }
            }
            finally
            {
                _scorers.Add(scorer);
            }

            return;
        }

        IDataView scored;
        lock (_contextGate)
        {
            scored = _transformer.Transform(_context.Data.LoadFromEnumerable(ToRows(features, []), _inputDefinition));
        }

        var column = scored.Schema[nameof(MLNetOutputRow.Probability)];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        var row = 0;
        float probability = 0;
        while (cursor.MoveNext())
        {
            getter(ref probability);
            destination[row++] = probability;
        }

        if (row != features.Rows)
        {
            throw new InvalidOperationException($"ML.NET scored {row} rows of {features.Rows}.");
        }
    }

    private static void ScoreWithTrees(MLNetTreeEnsemble trees, FeatureMatrix features, Span<double> destination)
    {
        if (features.Rows <= SmallBatch)
        {
            for (var i = 0; i < features.Rows; i++)
            {
                destination[i] = trees.Probability(features.Row(i));
            }

            return;
        }

        trees.Probabilities(features, destination);
    }

    public string? ExplanationUnavailableReason => _trees switch
    {
        null => $"ML.NET's trees could not be read: {_treesUnreadable}",
        { HasCover: false } => "the ML.NET model was saved without the node cover explanations need; retrain the model to get explanations",
        _ => null,
    };

    public ContributionScale ContributionScale => ContributionScale.LogOdds;

    public double BaseValue => _baseValue ??= Explainable().BaseValue();

    private double? _baseValue;

    public double RawOutput(ReadOnlySpan<double> features) => Explainable().LogOdds(features);

    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        var trees = Explainable();
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Length}.", nameof(features));
        }

        if (contributions.Length < FeatureCount)
        {
            throw new ArgumentException($"Need room for {FeatureCount} contributions, got {contributions.Length}.", nameof(contributions));
        }

        if (FeatureMatrix.HasMissing(features[..FeatureCount]))
        {
            throw new ArgumentException("Impute missing values before explaining an ML.NET model.", nameof(features));
        }

        trees.Explain(features, contributions);
    }

    public void ExplainRows(FeatureMatrix features, Memory<double> contributions)
    {
        ArgumentNullException.ThrowIfNull(features);
        var trees = Explainable();
        if (FeatureMatrix.HasMissing(features.Values))
        {
            throw new ArgumentException("Impute missing values before explaining an ML.NET model.", nameof(features));
        }

        ModelExplanation.ExplainRows(this, trees.Shap, MLNetTreeEnsemble.RoundToFloat(features), contributions);
    }

    private MLNetTreeEnsemble Explainable() =>
        ExplanationUnavailableReason is { } reason
            ? throw new InvalidOperationException($"This model cannot explain its output: {reason}.")
            : _trees!;

    /// <summary>Writes the trees' cover (what ML.NET's zip does not keep), or a marker that there is none.</summary>
    public void WriteCover(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var trees = _trees is { HasCover: true } ? _trees.Trees : null;
        writer.Write(trees?.Length ?? -1);
        foreach (var tree in trees ?? [])
        {
            writer.Write(tree.Cover!.Length);
            foreach (var weight in tree.Cover)
            {
                writer.Write(weight);
            }
        }
    }

    /// <summary>This model with the cover written by <see cref="WriteCover"/> (the same model when none was written).</summary>
    public MLNetModel WithCover(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var count = reader.ReadInt32();
        if (count < 0)
        {
            return this;
        }

        if (_trees is null || count != _trees.Trees.Length)
        {
            throw new InvalidDataException($"The cover is for {count} trees; the ML.NET model has {_trees?.Trees.Length ?? 0} readable trees.");
        }

        var covers = new double[count][];
        for (var t = 0; t < count; t++)
        {
            var nodes = reader.ReadInt32();
            if (nodes != _trees.Trees[t].Nodes.Length)
            {
                throw new InvalidDataException($"The cover of tree {t} has {nodes} nodes; the tree has {_trees.Trees[t].Nodes.Length}.");
            }

            covers[t] = new double[nodes];
            for (var n = 0; n < nodes; n++)
            {
                covers[t][n] = reader.ReadDouble();
                if (!(covers[t][n] >= 0))
                {
                    throw new InvalidDataException($"Tree {t} node {n} has an invalid cover {covers[t][n]}.");
                }
            }
        }

        return new MLNetModel(this, _trees.WithCover(covers));
    }

    /// <summary>Writes ML.NET's model zip (transformer and input schema).</summary>
    public void Save(Stream stream)
    {
        lock (_contextGate)
        {
            _context.Model.Save(_transformer, _inputSchema, stream);
        }
    }

    /// <summary>Reads a model zip written by <see cref="Save"/> (or by any ML.NET app with the same input columns).</summary>
    public static MLNetModel Load(Stream stream)
    {
        var context = new MLContext();
        var transformer = context.Model.Load(stream, out var schema);
        var featureColumn = schema.GetColumnOrNull(nameof(MLNetInputRow.Features))
            ?? throw new InvalidDataException("The ML.NET model has no 'Features' input column.");
        if (featureColumn.Type is not VectorDataViewType { Size: > 0 } vector || vector.ItemType != NumberDataViewType.Single)
        {
            throw new InvalidDataException($"The ML.NET model's 'Features' column is {featureColumn.Type}, not a fixed-size float vector.");
        }

        var trainer = TrainerOf(transformer);
        return new MLNetModel(context, transformer, schema, vector.Size, trainer);
    }

    /// <summary>
    /// Writes the model as ONNX (inputs: Features float[n], Label bool; output "Probability.output"), saying in the file
    /// what its input must be, as our boosted trees' export does: the doc_string and the feature names in order
    /// (metadata <see cref="Onnx.GradientBoostingOnnx.FeatureNamesKey"/>). ML.NET's converter writes neither, so a
    /// consumer holding only the file could not know the column order or that NaN is not imputed.
    /// </summary>
    public void ExportOnnx(Stream stream, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(featureNames);
        if (featureNames.Count != FeatureCount)
        {
            throw new ArgumentException($"The model takes {FeatureCount} features but {featureNames.Count} names were given.", nameof(featureNames));
        }

        using var graph = new MemoryStream();
        lock (_contextGate)
        {
            var sample = _context.Data.LoadFromEnumerable([new MLNetInputRow { Features = new float[FeatureCount] }], _inputDefinition);
            _context.Model.ConvertToOnnx(_transformer, sample, graph);
        }

        // Fields appended to a serialized message merge into it: the last doc_string wins, metadata_props adds an entry.
        graph.Write(new Onnx.ProtoWriter()
            .String(6, OnnxDescription(FeatureCount))
            .Message(14, new Onnx.ProtoWriter().String(1, Onnx.GradientBoostingOnnx.FeatureNamesKey).String(2, Onnx.GradientBoostingOnnx.JoinNames(featureNames)))
            .ToArray());
        graph.Position = 0;
        graph.CopyTo(stream);
    }

    /// <summary>The exported graph's input contract, as its doc_string.</summary>
    public static string OnnxDescription(int featureCount) =>
        $"Input Features: float[n, {featureCount}], the features in the order of metadata '{Onnx.GradientBoostingOnnx.FeatureNamesKey}' (one CSV line), already imputed: " +
        "the KNN imputer that the service applies first is not in this graph, and a missing value (NaN) takes the trees' default branch, " +
        "so a row with one can get another verdict than the service gives. Input Label: bool[n, 1], any value (ML.NET's graph asks for it). " +
        "Output Probability.output: float[n, 1], P(legitimate), whatever value the data set gives that class.";

    internal static IEnumerable<MLNetInputRow> ToRows(FeatureMatrix features, int[] labels)
    {
        for (var i = 0; i < features.Rows; i++)
        {
            var row = features.Row(i);
            var values = new float[row.Length];
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = (float)row[j];
            }

            yield return new MLNetInputRow { Features = values, Label = labels.Length > 0 && labels[i] == 1 };
        }
    }

    // The trainer is not stored in the zip; the model parameters' type tells it (calibrated models wrap a sub-model).
    private static MLNetTrainer TrainerOf(ITransformer transformer)
    {
        var model = (transformer as ISingleFeaturePredictionTransformer<object>)?.Model;
        var lightGbm = model is LightGbmBinaryModelParameters
            || model?.GetType().GenericTypeArguments.Contains(typeof(LightGbmBinaryModelParameters)) == true;
        return lightGbm ? MLNetTrainer.LightGbm : MLNetTrainer.FastTree;
    }

    private Scorer Rent()
    {
        if (_scorers.TryTake(out var scorer))
        {
            return scorer;
        }

        lock (_contextGate)
        {
            return new Scorer(_context.Model.CreatePredictionEngine<MLNetInputRow, MLNetOutputRow>(_transformer, ignoreMissingColumns: true, _inputDefinition), FeatureCount);
        }
    }

    /// <summary>One prediction engine with its own input and output rows: used by one thread at a time.</summary>
    private sealed class Scorer(PredictionEngine<MLNetInputRow, MLNetOutputRow> engine, int featureCount)
    {
        private readonly MLNetInputRow _input = new() { Features = new float[featureCount] };
        private MLNetOutputRow _output = new();

        public double Predict(ReadOnlySpan<double> features)
        {
            for (var j = 0; j < features.Length; j++)
            {
                _input.Features[j] = (float)features[j];
            }

            engine.Predict(_input, ref _output);
            return _output.Probability;
        }
    }
}
