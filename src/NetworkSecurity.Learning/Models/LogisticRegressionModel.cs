using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Explanation;
using NetworkSecurity.Learning.Serialization;

namespace NetworkSecurity.Learning.Models;

/// <summary>
/// P(class 1) = sigmoid(intercept + Σ coefficient·x), coefficients on the raw feature scale. Explains a row exactly
/// as coefficient·(x − training mean) per feature, from the base intercept + Σ coefficient·mean (the SHAP values of
/// a linear model with independent features).
/// </summary>
public sealed class LogisticRegressionModel : IPersistableModel, IExplainableModel
{
    public const string ModelKind = "logistic_regression";

    /// <param name="featureMeans">Training mean of each feature; null (older model files) means no explanations.</param>
    public LogisticRegressionModel(double intercept, double[] coefficients, double[]? featureMeans = null)
    {
        ArgumentNullException.ThrowIfNull(coefficients);
        if (featureMeans is not null && featureMeans.Length != coefficients.Length)
        {
            throw new ArgumentException($"Expected {coefficients.Length} feature means, got {featureMeans.Length}.", nameof(featureMeans));
        }

        Intercept = intercept;
        Coefficients = coefficients;
        FeatureMeans = featureMeans;
    }

    public string Kind => ModelKind;

    public int FeatureCount => Coefficients.Length;

    public double Intercept { get; }

    public double[] Coefficients { get; }

    public double[]? FeatureMeans { get; }

    public double PredictProbability(ReadOnlySpan<double> features) => GradientBoostingModel.Sigmoid(RawOutput(features));

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        PredictionInput.Check(FeatureCount, features, destination.Length);
        for (var r = 0; r < features.Rows; r++)
        {
            destination[r] = PredictProbability(features.Row(r));
        }
    }

    public string? ExplanationUnavailableReason => FeatureMeans is null
        ? "the model file predates stored training means (classifier format 1); retrain the model to get explanations"
        : null;

    public ContributionScale ContributionScale => ContributionScale.LogOdds;

    public double BaseValue
    {
        get
        {
            var value = Intercept;
            for (var i = 0; i < Coefficients.Length; i++)
            {
                value += Coefficients[i] * (FeatureMeans?[i] ?? double.NaN);
            }

            return value;
        }
    }

    public double RawOutput(ReadOnlySpan<double> features)
    {
        PredictionInput.Check(FeatureCount, features);
        var z = Intercept;
        for (var i = 0; i < Coefficients.Length; i++)
        {
            z += Coefficients[i] * features[i];
        }

        return z;
    }

    public void Explain(ReadOnlySpan<double> features, Span<double> contributions)
    {
        ModelExplanation.EnsureAvailable(this, features, contributions);
        var means = FeatureMeans!;
        for (var i = 0; i < Coefficients.Length; i++)
        {
            contributions[i] = Coefficients[i] * (features[i] - means[i]);
        }
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Intercept);
        writer.Write(Coefficients.Length);
        foreach (var c in Coefficients)
        {
            writer.Write(c);
        }

        // Format 2: a flag, then the training mean of every feature.
        writer.Write(FeatureMeans is not null);
        foreach (var mean in FeatureMeans ?? [])
        {
            writer.Write(mean);
        }
    }

    public static LogisticRegressionModel ReadFrom(BinaryReader reader, int formatVersion = ModelSerializer.FormatVersion)
    {
        var intercept = reader.ReadDouble();
        var count = reader.ReadInt32();
        if (count is < 1 or > 1_000_000)
        {
            throw new InvalidDataException($"Invalid coefficient count {count}.");
        }

        var coefficients = new double[count];
        for (var i = 0; i < count; i++)
        {
            coefficients[i] = reader.ReadDouble();
        }

        double[]? means = null;
        if (formatVersion >= 2 && reader.ReadBoolean())
        {
            means = new double[count];
            for (var i = 0; i < count; i++)
            {
                means[i] = reader.ReadDouble();
            }
        }

        return new LogisticRegressionModel(intercept, coefficients, means);
    }
}
