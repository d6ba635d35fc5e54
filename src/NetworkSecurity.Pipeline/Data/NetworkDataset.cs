using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Pipeline.Data;

/// <summary>
/// Parsed records: features (NaN = missing), labels (0 = the schema's first class, phishing; 1 = legitimate)
/// and where each row came from.
/// </summary>
public sealed record NetworkDataset(FeatureMatrix Features, int[] Labels, string[] Locations)
{
    public int Count => Labels.Length;

    public NetworkDataset Select(ReadOnlySpan<int> rows)
    {
        var labels = new int[rows.Length];
        var locations = new string[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            labels[i] = Labels[rows[i]];
            locations[i] = Locations[rows[i]];
        }

        return new NetworkDataset(Features.SelectRows(rows), labels, locations);
    }

    public int CountOf(int label) => Labels.Count(l => l == label);

    /// <summary>Rows whose value of <paramref name="feature"/> is missing (NaN).</summary>
    public int MissingCount(int feature)
    {
        var count = 0;
        for (var r = 0; r < Count; r++)
        {
            count += double.IsNaN(Features[r, feature]) ? 1 : 0;
        }

        return count;
    }
}

/// <summary>A record that failed parsing, with every problem found in it.</summary>
public sealed record InvalidRecord(string Location, string?[] Values, IReadOnlyList<DataProblem> Problems);
