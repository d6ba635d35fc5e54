using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Learners;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// A learner backed by an ML.NET binary trainer (FastTree or LightGBM), trained on the rows as given. Deterministic
/// for a seed with one thread (the default in the search, where folds already run in parallel).
/// </summary>
public sealed class MLNetLearner : ILearner
{
    public MLNetLearner(MLNetTrainer trainer, MLNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Trainer = trainer;
        Options = options;
    }

    public MLNetTrainer Trainer { get; }

    public MLNetOptions Options { get; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels); // ML.NET's boolean label would take a 2 or a -1 as false
        if (Trainer == MLNetTrainer.FastTree && FeatureMatrix.HasMissing(features.Values))
        {
            // FastTree drops every training row with a missing value, silently: 10 complete rows of 4,000 made a
            // model no better than chance. LightGBM (and this library's learners) take NaN as a value.
            var at = Array.FindIndex(features.Values, double.IsNaN);
            throw new ArgumentException(
                $"features[{at / features.Columns}, {at % features.Columns}] is missing (NaN): FastTree would leave out every row with a missing value; impute them first, or use LightGBM.",
                nameof(features));
        }

        var context = new MLContext(Options.Seed);
        var data = context.Data.LoadFromEnumerable(MLNetModel.ToRows(features, labels.ToArray()), MLNetInputRow.Schema(features.Columns));
        var estimator = Trainer switch
        {
            MLNetTrainer.FastTree => (IEstimator<ITransformer>)context.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfTrees = Options.NEstimators,
                NumberOfLeaves = Options.MaxLeaves,
                LearningRate = Options.LearningRate,
                MinimumExampleCountPerLeaf = Options.MinSamplesLeaf,
                NumberOfThreads = Options.Threads == 0 ? null : Options.Threads,
                Seed = Options.Seed,
                LabelColumnName = nameof(MLNetInputRow.Label),
                FeatureColumnName = nameof(MLNetInputRow.Features),
            }),
            _ => context.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfIterations = Options.NEstimators,
                NumberOfLeaves = Options.MaxLeaves,
                LearningRate = Options.LearningRate,
                MinimumExampleCountPerLeaf = Options.MinSamplesLeaf,
                NumberOfThreads = Options.Threads == 0 ? null : Options.Threads,
                Seed = Options.Seed,
                Booster = new GradientBooster.Options
                {
                    L2Regularization = Options.L2,
                    SubsampleFraction = Options.Subsample,
                    SubsampleFrequency = Options.Subsample < 1 ? 1 : 0,
                },
                LabelColumnName = nameof(MLNetInputRow.Label),
                FeatureColumnName = nameof(MLNetInputRow.Features),
            }),
        };

        ITransformer transformer;
        if (Trainer == MLNetTrainer.LightGbm)
        {
            using (LightGbmThreadGate.Enter(Options.Threads))
            {
                try
                {
                    transformer = estimator.Fit(data);
                }
                catch (ArgumentNullException ex)
                {
                    // ML.NET cannot read back trees that are a single leaf (ImmutableArray.Create of their null split
                    // arrays): said in those terms, not as "Value cannot be null. (Parameter 'items')".
                    throw new InvalidOperationException(
                        $"LightGBM found no split in the {features.Rows} training rows (every feature holds one value, or too few rows for min_samples_leaf {Options.MinSamplesLeaf} on each side), and ML.NET cannot build a model of single-leaf trees.", ex);
                }
            }
        }
        else
        {
            transformer = estimator.Fit(data);
        }

        return new MLNetModel(context, transformer, data.Schema, features.Columns, Trainer, coverRows: features);
    }
}
