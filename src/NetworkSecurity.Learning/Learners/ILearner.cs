using NetworkSecurity.Learning.Data;
using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Learners;

/// <summary>
/// Learns a binary classifier. Labels are 0 (negative) and 1 (positive).
/// Implementations are deterministic for a given seed, whatever the thread count.
/// </summary>
public interface ILearner
{
    IClassifierModel Learn(FeatureMatrix features, ReadOnlySpan<int> labels);
}
