using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// A tree learner that can train on a subset of rows of an already binned data set, so cross-validation and grid
/// search bin the data once and share it across folds and configurations.
/// </summary>
public interface IBinnedLearner
{
    IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows);
}
