using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Serialization;

namespace NetworkSecurity.Learning.Models;

/// <summary>P(class 1) = sigmoid(intercept + Σ coefficient·x), coefficients on the raw feature scale.</summary>
public sealed class LogisticRegressionModel(double intercept, double[] coefficients) : IPersistableModel
{
    public const string ModelKind = "logistic_regression";

    public string Kind => ModelKind;

    public int FeatureCount => Coefficients.Length;

    public double Intercept { get; } = intercept;

    public double[] Coefficients { get; } = coefficients;

    public double PredictProbability(ReadOnlySpan<double> features)
    {
        var z = Intercept;
        for (var i = 0; i < Coefficients.Length; i++)
        {
            z += Coefficients[i] * features[i];
        }

        return GradientBoostingModel.Sigmoid(z);
    }

    public void PredictProbabilities(FeatureMatrix features, Span<double> destination)
    {
        for (var r = 0; r < features.Rows; r++)
        {
            destination[r] = PredictProbability(features.Row(r));
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
    }

    public static LogisticRegressionModel ReadFrom(BinaryReader reader)
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

        return new LogisticRegressionModel(intercept, coefficients);
    }
}
