using System.Collections.Concurrent;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Explanation;

/// <summary>The scale a model's raw output and its feature contributions are on.</summary>
public enum ContributionScale
{
    /// <summary>Log-odds of label 1: P = sigmoid(base + Σ contributions).</summary>
    LogOdds,

    /// <summary>Probability of label 1: P = base + Σ contributions.</summary>
    Probability,
}

/// <summary>
/// A model that splits its raw output for one row into one additive contribution per feature:
/// <see cref="BaseValue"/> + Σ contributions = <see cref="RawOutput"/>, exactly (up to rounding).
/// A model may implement this and still be unable to explain (an engine without contribution support, or a model
/// file that predates what explanations need): it then says why in <see cref="ExplanationUnavailableReason"/> and
/// <see cref="Explain"/> throws <see cref="InvalidOperationException"/>; it never makes numbers up.
/// </summary>
public interface IExplainableModel : IClassifierModel
{
    /// <summary>Null when <see cref="Explain"/> works; otherwise why it cannot, in words for an operator.</summary>
    string? ExplanationUnavailableReason { get; }

    ContributionScale ContributionScale { get; }

    /// <summary>The expected raw output over the training data (what the contributions start from).</summary>
    double BaseValue { get; }

    /// <summary>The model's raw output for one row on <see cref="ContributionScale"/>.</summary>
    double RawOutput(ReadOnlySpan<double> features);

    /// <summary>Writes one contribution per feature (length <see cref="IClassifierModel.FeatureCount"/>).</summary>
    void Explain(ReadOnlySpan<double> features, Span<double> contributions);

    /// <summary>
    /// Explains every row of <paramref name="features"/>: row r's contributions go to
    /// [r · FeatureCount, (r + 1) · FeatureCount) of <paramref name="contributions"/>. By default <see cref="Explain"/>
    /// row by row, in blocks of rows spread over the cores.
    /// </summary>
    void ExplainRows(FeatureMatrix features, Memory<double> contributions)
    {
        ArgumentNullException.ThrowIfNull(features);
        var width = FeatureCount;
        if (features.Columns != width)
        {
            throw new ArgumentException($"Expected {width} features, got {features.Columns}.", nameof(features));
        }

        if (contributions.Length < features.Rows * width)
        {
            throw new ArgumentException($"Need room for {features.Rows} × {width} contributions.", nameof(contributions));
        }

        Parallel.ForEach(Partitioner.Create(0, features.Rows, 16), range =>
        {
            for (var r = range.Item1; r < range.Item2; r++)
            {
                Explain(features.Row(r), contributions.Span.Slice(r * width, width));
            }
        });
    }
}

/// <summary>Helpers for any classifier, whether or not it can explain.</summary>
public static class ModelExplanation
{
    /// <summary>Null when <paramref name="model"/> can explain; otherwise why not.</summary>
    public static string? UnavailableReason(IClassifierModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model is IExplainableModel explainable
            ? explainable.ExplanationUnavailableReason
            : $"the {(model is Serialization.IPersistableModel persistable ? persistable.Kind : model.GetType().Name)} model does not provide feature contributions"; // "average", as the model card names it
    }

    /// <summary>Throws when the model cannot explain; used by the models themselves before explaining.</summary>
    internal static void EnsureAvailable(IExplainableModel model, ReadOnlySpan<double> features, Span<double> contributions)
    {
        if (model.ExplanationUnavailableReason is { } reason)
        {
            throw new InvalidOperationException($"This model cannot explain its output: {reason}.");
        }

        // Exactly the model's width, as scoring: a longer row was explained from its first columns, silently.
        if (features.Length != model.FeatureCount)
        {
            throw new ArgumentException($"Expected {model.FeatureCount} features, got {features.Length}.", nameof(features));
        }

        if (contributions.Length < model.FeatureCount)
        {
            throw new ArgumentException($"Need room for {model.FeatureCount} contributions, got {contributions.Length}.", nameof(contributions));
        }
    }

    /// <summary>
    /// <see cref="IExplainableModel.ExplainRows"/> for tree models: blocks of rows spread over the cores, each block
    /// explained leaf by leaf by the prepared <paramref name="shap"/> (which must explain <paramref name="model"/>).
    /// </summary>
    public static void ExplainRows(IExplainableModel model, TreeShapEnsemble shap, FeatureMatrix features, Memory<double> contributions)
    {
        ArgumentNullException.ThrowIfNull(features);
        var width = model.FeatureCount;
        if (model.ExplanationUnavailableReason is { } reason)
        {
            throw new InvalidOperationException($"This model cannot explain its output: {reason}.");
        }

        if (features.Columns != width)
        {
            throw new ArgumentException($"Expected {width} features, got {features.Columns}.", nameof(features));
        }

        if (contributions.Length < features.Rows * width)
        {
            throw new ArgumentException($"Need room for {features.Rows} × {width} contributions, got {contributions.Length}.", nameof(contributions));
        }

        contributions.Span[..(features.Rows * width)].Clear();
        Parallel.ForEach(Partitioner.Create(0, features.Rows, RowsPerTask), range =>
        {
            var count = range.Item2 - range.Item1;
            shap.AddRows(features.Values.AsSpan(range.Item1 * features.Columns), count, features.Columns, contributions.Span.Slice(range.Item1 * width, count * width));
        });
    }

    // Rows per parallel task: enough for the leaf-by-leaf blocks to pay off, small enough to keep every core busy.
    private const int RowsPerTask = 128;

    internal static string? MissingCover(IEnumerable<Trees.FlatTree> trees) =>
        trees.Any(t => t.Cover is null)
            ? "the model file predates node cover (classifier format 1); retrain the model to get explanations"
            : null;
}
