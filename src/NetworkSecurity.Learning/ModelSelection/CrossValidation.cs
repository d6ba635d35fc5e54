namespace NetworkSecurity.Learning.ModelSelection;

/// <summary>One cross-validation fold: rows to train on and rows to score (both sorted).</summary>
public sealed record Fold(int[] Train, int[] Validation);

/// <summary>
/// Stratified k-fold assignment, optionally grouped: rows of one group (e.g. copies of one feature vector) always
/// share a fold. Groups are shuffled with the seed and each goes to the fold with the fewest rows of its label so far.
/// </summary>
public static class CrossValidation
{
    /// <summary>
    /// What each fold needs one of per class: the number of rows of the smaller class, or with groups the number of
    /// groups whose majority is the smaller class (counted as <see cref="StratifiedFolds"/> assigns them). With at
    /// least k of those, every fold holds both classes to score.
    /// </summary>
    public static int SmallestClassUnits(ReadOnlySpan<int> labels, ReadOnlySpan<int> groupIds)
    {
        var ids = groupIds.Length == 0 ? Enumerable.Range(0, labels.Length).ToArray() : groupIds.ToArray();
        var perLabel = new Dictionary<int, int>();
        foreach (var (_, rows) in TrainTestSplit.GroupMembers(ids))
        {
            var label = TrainTestSplit.MajorityLabel(labels, rows);
            perLabel[label] = perLabel.GetValueOrDefault(label) + 1;
        }

        return perLabel.Count < 2 ? 0 : perLabel.Values.Min();
    }

    public static IReadOnlyList<Fold> StratifiedFolds(ReadOnlySpan<int> labels, ReadOnlySpan<int> groupIds, int k, int seed)
    {
        if (k < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "Cross-validation needs at least 2 folds.");
        }

        if (groupIds.Length != 0 && groupIds.Length != labels.Length)
        {
            throw new ArgumentException("groupIds must be empty or have one id per row.", nameof(groupIds));
        }

        var ids = groupIds.Length == 0 ? Enumerable.Range(0, labels.Length).ToArray() : groupIds.ToArray();
        var members = TrainTestSplit.GroupMembers(ids);
        var byLabel = new SortedDictionary<int, List<int>>();
        foreach (var (group, rows) in members)
        {
            var label = TrainTestSplit.MajorityLabel(labels, rows);
            if (!byLabel.TryGetValue(label, out var list))
            {
                byLabel[label] = list = [];
            }

            list.Add(group);
        }

        var random = new Random(seed);
        var foldOf = new int[labels.Length];
        foreach (var (_, groups) in byLabel)
        {
            groups.Sort();
            TrainTestSplit.Shuffle(groups, random);

            // Bigger groups first keeps the folds balanced; the shuffle decides among equal sizes.
            var ordered = groups.OrderByDescending(g => members[g].Count).ToList();
            var size = new int[k];
            foreach (var group in ordered)
            {
                var fold = 0;
                for (var f = 1; f < k; f++)
                {
                    if (size[f] < size[fold])
                    {
                        fold = f;
                    }
                }

                foreach (var row in members[group])
                {
                    foldOf[row] = fold;
                }

                size[fold] += members[group].Count;
            }
        }

        var folds = new Fold[k];
        for (var f = 0; f < k; f++)
        {
            var validation = new List<int>();
            var train = new List<int>();
            for (var i = 0; i < foldOf.Length; i++)
            {
                (foldOf[i] == f ? validation : train).Add(i);
            }

            if (validation.Count == 0)
            {
                throw new ArgumentException($"Too few rows or groups for {k} folds.", nameof(k));
            }

            folds[f] = new Fold([.. train], [.. validation]);
        }

        return folds;
    }
}
