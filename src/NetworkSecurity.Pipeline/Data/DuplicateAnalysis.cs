using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Pipeline.Data;

/// <summary>
/// Finds rows that repeat another row's feature vector. The data set has thousands: a random split puts
/// copies of test rows into training, so a grouped split uses <see cref="GroupIds"/> to keep copies together.
/// </summary>
public sealed record DuplicateAnalysis(int Rows, int DistinctVectors, int DuplicateRows, int ConflictingVectors, int ConflictingRows, int[] GroupIds)
{
    public static DuplicateAnalysis Analyze(FeatureMatrix features, ReadOnlySpan<int> labels)
    {
        var groups = new Dictionary<VectorKey, int>();
        var groupIds = new int[features.Rows];
        var labelMask = new List<int>();
        var groupSizes = new List<int>();
        for (var r = 0; r < features.Rows; r++)
        {
            var key = new VectorKey(features.Row(r).ToArray());
            if (!groups.TryGetValue(key, out var id))
            {
                id = groups.Count;
                groups.Add(key, id);
                labelMask.Add(0);
                groupSizes.Add(0);
            }

            groupIds[r] = id;
            groupSizes[id]++;
            if (labels.Length > 0)
            {
                labelMask[id] |= 1 << labels[r];
            }
        }

        var conflictingVectors = 0;
        var conflictingRows = 0;
        for (var g = 0; g < groups.Count; g++)
        {
            if (labelMask[g] == 3)
            {
                conflictingVectors++;
                conflictingRows += groupSizes[g];
            }
        }

        return new DuplicateAnalysis(features.Rows, groups.Count, features.Rows - groups.Count, conflictingVectors, conflictingRows, groupIds);
    }

    private sealed class VectorKey(double[] values) : IEquatable<VectorKey>
    {
        private readonly int _hash = ComputeHash(values);

        public bool Equals(VectorKey? other) =>
            other is not null && values.AsSpan().SequenceEqual(other.Values);

        public override bool Equals(object? obj) => Equals(obj as VectorKey);

        public override int GetHashCode() => _hash;

        private double[] Values => values;

        private static int ComputeHash(double[] values)
        {
            var hash = new HashCode();
            foreach (var v in values)
            {
                hash.Add(v);
            }

            return hash.ToHashCode();
        }
    }
}
