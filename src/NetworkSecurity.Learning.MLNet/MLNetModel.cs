using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// A trained ML.NET binary model behind our model interface. Batches go through ML.NET's vectorised
/// <see cref="ITransformer.Transform"/>; single rows (and tiny batches) through a pool of prediction engines, because
/// one <see cref="PredictionEngine{TSrc,TDst}"/> must not be used by two threads at once. Persisted as ML.NET's own
/// model zip, which any ML.NET app loads with <c>MLContext.Model.Load</c>.
/// </summary>
public sealed class MLNetModel : IClassifierModel
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

    internal MLNetModel(MLContext context, ITransformer transformer, DataViewSchema inputSchema, int featureCount, MLNetTrainer trainer)
    {
        _context = context;
        _transformer = transformer;
        _inputSchema = inputSchema;
        _inputDefinition = MLNetInputRow.Schema(featureCount);
        FeatureCount = featureCount;
        Trainer = trainer;
    }

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

    /// <summary>Writes the model as ONNX (inputs: Features float[n], Label bool; output "Probability.output").</summary>
    public void ExportOnnx(Stream stream)
    {
        lock (_contextGate)
        {
            var sample = _context.Data.LoadFromEnumerable([new MLNetInputRow { Features = new float[FeatureCount] }], _inputDefinition);
            _context.Model.ConvertToOnnx(_transformer, sample, stream);
        }
    }

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
