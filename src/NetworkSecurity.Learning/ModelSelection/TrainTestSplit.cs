namespace NetworkSecurity.Learning.ModelSelection;

/// <summary>Row indices of a train/test split (both sorted ascending).</summary>
public sealed record SplitIndices(int[] Train, int[] Test);

/// <summary>
/// Seeded train/test splits that keep the label balance. The grouped variant keeps every group (e.g. rows with an
/// identical feature vector) on one side, so no copy of a test row is seen in training.
/// </summary>
public static class TrainTestSplit
{
    public static SplitIndices Stratified(ReadOnlySpan<int> labels, double testFraction, int seed)
    {
        var groups = new int[labels.Length];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = i;
        }

        return StratifiedGrouped(labels, groups, testFraction, seed);
    }

    /// <summary>
    /// Groups are assigned whole, in a seeded random order per label (a group's label is its majority label), until
    /// each label's test share reaches <paramref name="testFraction"/> of its rows.
    /// </summary>
    public static SplitIndices StratifiedGrouped(ReadOnlySpan<int> labels, ReadOnlySpan<int> groupIds, double testFraction, int seed)
    {
        if (labels.Length != groupIds.Length)
        {
            throw new ArgumentException($"labels ({labels.Length}) and groupIds ({groupIds.Length}) must have the same length.", nameof(groupIds));
        }

        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "testFraction must be between 0 and 1 (exclusive).");
        }

        var members = GroupMembers(groupIds);
        var byLabel = new SortedDictionary<int, List<int>>();
        var rowsPerLabel = new Dictionary<int, int>();
        foreach (var (group, rows) in members)
        {
            var label = MajorityLabel(labels, rows);
            if (!byLabel.TryGetValue(label, out var list))
            {
                byLabel[label] = list = [];
            }

            list.Add(group);
            rowsPerLabel[label] = rowsPerLabel.GetValueOrDefault(label) + rows.Count;
        }

        var random = new Random(seed);
        var isTest = new bool[labels.Length];
        foreach (var (label, groups) in byLabel)
        {
            groups.Sort();
            Shuffle(groups, random);
            var target = (int)Math.Round(rowsPerLabel[label] * testFraction, MidpointRounding.AwayFromZero);
            var taken = 0;
            foreach (var group in groups)
            {
                var rows = members[group];
                if (taken >= target)
                {
                    break;
                }

                // Skip a group that would overshoot by more than it brings us closer.
                if (taken + rows.Count > target && (taken + rows.Count - target) > (target - taken))
                {
                    continue;
                }

                foreach (var row in rows)
                {
                    isTest[row] = true;
                }

                taken += rows.Count;
            }
        }

        var train = new List<int>(labels.Length);
        var test = new List<int>((int)(labels.Length * testFraction) + 1);
        for (var i = 0; i < isTest.Length; i++)
        {
            (isTest[i] ? test : train).Add(i);
        }

        return new SplitIndices([.. train], [.. test]);
    }

    internal static Dictionary<int, List<int>> GroupMembers(ReadOnlySpan<int> groupIds)
    {
        var members = new Dictionary<int, List<int>>();
        for (var i = 0; i < groupIds.Length; i++)
        {
            if (!members.TryGetValue(groupIds[i], out var rows))
            {
                members[groupIds[i]] = rows = [];
            }

            rows.Add(i);
        }

        return members;
    }

    internal static int MajorityLabel(ReadOnlySpan<int> labels, List<int> rows)
    {
        var counts = new Dictionary<int, int>();
        foreach (var row in rows)
        {
            counts[labels[row]] = counts.GetValueOrDefault(labels[row]) + 1;
        }

        return counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).First().Key;
    }

    internal static void Shuffle<T>(IList<T> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
