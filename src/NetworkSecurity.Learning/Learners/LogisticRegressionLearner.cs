using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// L2-regularised logistic regression fitted by Newton's method (IRLS) with a Cholesky solve. Minimises
/// C·Σ log-loss + ½‖w‖² (scikit-learn's form) on standardised features; the intercept is not penalised.
/// Coefficients are mapped back to the raw feature scale, so the model needs no scaler.
/// </summary>
public sealed class LogisticRegressionLearner : ILearner
{
    public LogisticRegressionLearner(double c = 1.0, int maxIterations = 100, double tolerance = 1e-8)
    {
        if (!(c > 0) || double.IsInfinity(c))
        {
            // An infinite C made the Newton step NaN: a model whose every probability is NaN.
            throw new ArgumentOutOfRangeException(nameof(c), c, "C must be > 0 and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        if (!(tolerance > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be > 0.");
        }

        C = c;
        MaxIterations = maxIterations;
        Tolerance = tolerance;
    }

    public double C { get; }

    public int MaxIterations { get; }

    public double Tolerance { get; }

    /// <summary>Newton iterations used by the last fit.</summary>
    public int Iterations { get; private set; }

    public IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        TrainingInput.Check(features, labels);

        // Trees send a missing value left; here one NaN or infinity would make every coefficient NaN, silently.
        for (var i = 0; i < features.Values.Length; i++)
        {
            if (!double.IsFinite(features.Values[i]))
            {
                throw new ArgumentException(
                    $"features[{i / features.Columns}, {i % features.Columns}] is {features.Values[i]}; logistic regression needs finite values (impute missing ones first).",
                    nameof(features));
            }
        }

        int n = features.Rows, p = features.Columns, d = p + 1;
        var mean = new double[p];
        var scale = new double[p];
        for (var j = 0; j < p; j++)
        {
            double sum = 0, sumSq = 0;
            for (var r = 0; r < n; r++)
            {
                var v = features[r, j];
                sum += v;
                sumSq += v * v;
            }

            mean[j] = sum / n;
            var variance = Math.Max((sumSq / n) - (mean[j] * mean[j]), 0);
            scale[j] = variance > 1e-24 ? Math.Sqrt(variance) : 1.0;
        }

        // z = standardised row with a trailing 1 for the intercept.
        var z = new double[n * d];
        for (var r = 0; r < n; r++)
        {
            for (var j = 0; j < p; j++)
            {
                z[(r * d) + j] = (features[r, j] - mean[j]) / scale[j];
            }

            z[(r * d) + p] = 1.0;
        }

        var w = new double[d];
        var gradient = new double[d];
        var hessian = new double[d * d];
        Iterations = 0;
        for (var iteration = 1; iteration <= MaxIterations; iteration++)
        {
            Iterations = iteration;
            Array.Clear(gradient);
            Array.Clear(hessian);
            for (var r = 0; r < n; r++)
            {
                var row = z.AsSpan(r * d, d);
                double score = 0;
                for (var j = 0; j < d; j++)
                {
                    score += w[j] * row[j];
                }

                var prob = GradientBoostingModel.Sigmoid(score);
                var residual = C * (prob - labels[r]);
                var curvature = C * Math.Max(prob * (1 - prob), 1e-12);
                for (var j = 0; j < d; j++)
                {
                    gradient[j] += residual * row[j];
                    var cj = curvature * row[j];
                    for (var k = 0; k <= j; k++)
                    {
                        hessian[(j * d) + k] += cj * row[k];
                    }
                }
            }

            for (var j = 0; j < p; j++)
            {
                gradient[j] += w[j];
                hessian[(j * d) + j] += 1.0;
            }

            hessian[(p * d) + p] += 1e-10; // keeps the intercept row positive definite on degenerate data
            var step = CholeskySolve(hessian, gradient, d);
            double norm = 0;
            for (var j = 0; j < d; j++)
            {
                w[j] -= step[j];
                norm = Math.Max(norm, Math.Abs(step[j]));
            }

            if (norm < Tolerance)
            {
                break;
            }
        }

        var coefficients = new double[p];
        var intercept = w[p];
        for (var j = 0; j < p; j++)
        {
            coefficients[j] = w[j] / scale[j];
            intercept -= coefficients[j] * mean[j];
        }

        return new LogisticRegressionModel(intercept, coefficients, mean);
    }

    /// <summary>Solves A·x = b for symmetric positive definite A (lower triangle filled).</summary>
    private static double[] CholeskySolve(double[] a, double[] b, int d)
    {
        var l = new double[d * d];
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[(i * d) + j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[(i * d) + k] * l[(j * d) + k];
                }

                if (i == j)
                {
                    if (sum <= 0)
                    {
                        throw new InvalidOperationException("The Hessian is not positive definite; the data may be degenerate.");
                    }

                    l[(i * d) + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[(i * d) + j] = sum / l[(j * d) + j];
                }
            }
        }

        var y = new double[d];
        for (var i = 0; i < d; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++)
            {
                sum -= l[(i * d) + k] * y[k];
            }

            y[i] = sum / l[(i * d) + i];
        }

        var x = new double[d];
        for (var i = d - 1; i >= 0; i--)
        {
            var sum = y[i];
            for (var k = i + 1; k < d; k++)
            {
                sum -= l[(k * d) + i] * x[k];
            }

            x[i] = sum / l[(i * d) + i];
        }

        return x;
    }
}
