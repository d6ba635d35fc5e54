using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Models;

/// <summary>
/// The checks every model makes before scoring: a row or matrix of another width was scored silently on the wrong
/// columns (boosting's batch path even read across row boundaries), or failed deep inside with an
/// IndexOutOfRangeException. Same messages as the ML.NET model's.
/// </summary>
internal static class PredictionInput
{
    public static void Check(int featureCount, ReadOnlySpan<double> features)
    {
        if (features.Length != featureCount)
        {
            throw new ArgumentException($"Expected {featureCount} features, got {features.Length}.", nameof(features));
        }
    }

    public static void Check(int featureCount, FeatureMatrix features, int destinationLength)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Columns != featureCount)
        {
            throw new ArgumentException($"Expected {featureCount} features, got {features.Columns}.", nameof(features));
        }

        if (destinationLength < features.Rows)
        {
            throw new ArgumentException($"Destination holds {destinationLength} values; {features.Rows} needed.", "destination");
        }
    }
}
