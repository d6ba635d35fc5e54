using System.Globalization;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// Seeds written as a range ("0-4", "100-119") or a list ("1,3,7"), each 0 or more: a seeded generator takes a
/// negative seed's absolute value, so -2 would repeat 2's split.
/// </summary>
public static class SeedRange
{
    /// <summary>What a seed list must be, for the error message.</summary>
    public const string Expected = "is not a range like 0-4 or a list like 1,3,7 of distinct seeds 0 or more. At most 10,000 seeds.";

    // Each seed is a whole search: more than this is a slip ("0-1000000"), said as the limit it breaks.
    private const int MaxSeeds = 10_000;

    public static bool TryParse(string text, out int[] seeds)
    {
        seeds = [];
        var dash = text.IndexOf('-', 1 < text.Length ? 1 : 0);
        if (dash > 0 && !text.Contains(',', StringComparison.Ordinal))
        {
            if (int.TryParse(text[..dash], NumberStyles.Integer, CultureInfo.InvariantCulture, out var from)
                && int.TryParse(text[(dash + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var to)
                && from >= 0 && to >= from && to - from < MaxSeeds)
            {
                seeds = Enumerable.Range(from, to - from + 1).ToArray();
                return true;
            }

            return false;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var parsed = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out parsed[i]))
            {
                return false;
            }
        }

        seeds = parsed;
        // A seed given twice would count its split twice in the mean and the spread.
        return parsed.Length is > 0 and <= MaxSeeds && parsed.All(seed => seed >= 0) && parsed.Distinct().Count() == parsed.Length;
    }
}
