using NetworkSecurity.Learning.Models;

namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// A tree learner that can train on a subset of rows of an already binned data set, so cross-validation and grid
/// search bin the data once and share it across folds and configurations.
/// </summary>
public interface IBinnedLearner
{
    /// <summary>Fits on <paramref name="rows"/> of <paramref name="data"/>; ensembles stop between members when
    /// <paramref name="cancellationToken"/> is cancelled (a large fit takes seconds to minutes).</summary>
    IClassifierModel Learn(BinnedDataset data, ReadOnlySpan<int> labels, ReadOnlySpan<int> rows, CancellationToken cancellationToken = default);
}
