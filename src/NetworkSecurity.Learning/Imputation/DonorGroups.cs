namespace NetworkSecurity.Learning.Imputation;

/// <summary>
/// A pigeonhole pre-filter for the complete-donor search of <see cref="TernaryDonorIndex"/>: the columns are cut into
/// <see cref="Count"/> groups and every distinct donor vector is listed under its values in each group. A donor whose
/// sum of squared differences to a query is at most <see cref="Count"/> - 1 differs from it in at most that many
/// present coordinates, so in at least one group it matches the query on every present coordinate: looking up the
/// query's values in each group (every filling of its missing cells there) finds all such donors. When the k-th best
/// candidate is that close the candidates hold the exact answer; otherwise the caller scans every donor.
/// </summary>
internal sealed class DonorGroups
{
    /// <summary>Groups of columns; sums up to Count - 1 are guaranteed to be found.</summary>
    public const int Count = 3;

    /// <summary>Lookups per query above which the pre-filter is skipped (3^m fillings for m missing cells in a group).</summary>
    private const int MaxLookups = 81;

    private readonly int[] _bounds;  // Count + 1 column bounds
    private readonly int[][] _start; // per group: where each pattern's vectors begin in _units (3^width + 1 entries)
    private readonly int[][] _units; // per group: the distinct vectors ordered by their pattern in the group

    private DonorGroups(int[] bounds, int[][] start, int[][] units)
    {
        _bounds = bounds;
        _start = start;
        _units = units;
    }

    /// <param name="codes">Distinct vectors × <paramref name="width"/> codes 0, 1, 2 (no missing value).</param>
    public static DonorGroups? TryCreate(ReadOnlySpan<byte> codes, int width, int distinct, int columns)
    {
        if (columns < Count || columns > 32)
        {
            return null; // 3^11 patterns per group at most
        }

        var bounds = new int[Count + 1];
        for (var g = 0; g <= Count; g++)
        {
            bounds[g] = g * columns / Count;
        }

        var start = new int[Count][];
        var units = new int[Count][];
        var patterns = new int[distinct];
        for (var g = 0; g < Count; g++)
        {
            var counts = new int[Pow3(bounds[g + 1] - bounds[g]) + 1];
            for (var u = 0; u < distinct; u++)
            {
                patterns[u] = Pattern(codes.Slice(u * width, width), bounds[g], bounds[g + 1]);
                counts[patterns[u] + 1]++;
            }

            for (var p = 1; p < counts.Length; p++)
            {
                counts[p] += counts[p - 1];
            }

            start[g] = (int[])counts.Clone();
            units[g] = new int[distinct];
            for (var u = 0; u < distinct; u++)
            {
                units[g][counts[patterns[u]]++] = u; // ascending u within a pattern
            }
        }

        return new DonorGroups(bounds, start, units);
    }

    /// <summary>
    /// Writes into <paramref name="candidates"/> each distinct vector that matches the query on every present coordinate
    /// of some group, once (<paramref name="stamps"/> and <paramref name="stamp"/> mark those already written); returns
    /// how many, or -1 when the query has too many missing cells in a group for the pre-filter to pay.
    /// </summary>
    public int Collect(ReadOnlySpan<byte> queryValues, ReadOnlySpan<byte> queryPresent, Span<int> candidates, Span<int> stamps, int stamp)
    {
        var lookups = 0;
        for (var g = 0; g < Count; g++)
        {
            var missing = 0;
            for (var c = _bounds[g]; c < _bounds[g + 1]; c++)
            {
                missing += queryPresent[c] == 0 ? 1 : 0;
            }

            lookups += Pow3(missing);
            if (lookups > MaxLookups)
            {
                return -1;
            }
        }

        var found = 0;
        Span<int> places = stackalloc int[16];
        Span<int> digits = stackalloc int[16];
        for (var g = 0; g < Count; g++)
        {
            // The pattern with every missing cell at code 0, and the place value of each missing cell.
            var pattern = 0;
            var missing = 0;
            var place = 1;
            for (var c = _bounds[g]; c < _bounds[g + 1]; c++, place *= 3)
            {
                if (queryPresent[c] == 0)
                {
                    places[missing++] = place;
                }
                else
                {
                    pattern += queryValues[c] * place;
                }
            }

            digits[..missing].Clear();
            var start = _start[g];
            var units = _units[g];
            while (true)
            {
                for (var i = start[pattern]; i < start[pattern + 1]; i++)
                {
                    var u = units[i];
                    if (stamps[u] != stamp)
                    {
                        stamps[u] = stamp;
                        candidates[found++] = u;
                    }
                }

                // Next filling of the missing cells (base-3 odometer); done after the last.
                var d = 0;
                while (d < missing && digits[d] == 2)
                {
                    digits[d] = 0;
                    pattern -= 2 * places[d];
                    d++;
                }

                if (d == missing)
                {
                    break;
                }

                digits[d]++;
                pattern += places[d];
            }
        }

        return found;
    }

    private static int Pattern(ReadOnlySpan<byte> codes, int from, int to)
    {
        var pattern = 0;
        var place = 1;
        for (var c = from; c < to; c++, place *= 3)
        {
            pattern += codes[c] * place;
        }

        return pattern;
    }

    private static int Pow3(int n)
    {
        var p = 1;
        for (var i = 0; i < n; i++)
        {
            p *= 3;
        }

        return p;
    }
}
