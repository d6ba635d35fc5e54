using System.Globalization;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Data;

/// <summary>
/// Writes one evaluation split so others can re-use the very same rows: train.csv and test.csv (schema columns, the
/// data set's own labels; rows as read, before imputation) and product.csv (per test row, in order: its source
/// location, its class — phishing or legitimate —, label and the product's P(legitimate)), and settings.json with what
/// the peers need to prepare the rows as the product did: {"imputer_neighbors": N}, the KNN imputer's neighbours
/// (Pipeline:ImputerNeighbors), fitted on train.csv (peers.py imputed with 3 whatever the product had used).
/// </summary>
public static class SplitWriter
{
    public static void Write(string folder, DataSchema schema, NetworkDataset train, NetworkDataset test, IReadOnlyList<double> legitimateProbabilities, int imputerNeighbors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imputerNeighbors, 1);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(legitimateProbabilities);
        Directory.CreateDirectory(folder);
        DatasetCsvWriter.Write(Path.Combine(folder, "train.csv"), schema, train);
        DatasetCsvWriter.Write(Path.Combine(folder, "test.csv"), schema, test);
        // Before product.csv, the last file a finished seed folder gets.
        SafeFile.WriteText(Path.Combine(folder, "settings.json"), writer =>
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"imputer_neighbors\": {imputerNeighbors}}}")));
        SafeFile.WriteText(Path.Combine(folder, "product.csv"), writer =>
        {
            // The class says which label is legitimate: a schema may call 1 phishing (labels 0/1), and peers.py took
            // label 1 as legitimate, so it scored the product's P(legitimate) against the phishing rows.
            writer.WriteLine("location,class,label,legitimate_probability");
            for (var i = 0; i < test.Count; i++)
            {
                var role = test.Labels[i] == 1 ? "legitimate" : "phishing"; // label 1 is learned as legitimate (TargetColumn)
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\"{test.Locations[i].Replace("\"", "\"\"", StringComparison.Ordinal)}\",{role},{schema.Target.Classes[test.Labels[i]].Value},{legitimateProbabilities[i]:R}"));
            }
        });
    }
}
