using System.Text.Json;
using NetworkSecurity.Learning.Data;

namespace NetworkSecurity.Learning.Tests;

/// <summary>Reads the scipy/scikit-learn reference outputs and the bundled data set for tests.</summary>
public static class ReferenceData
{
    public static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", name))).RootElement;

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble()).ToArray();

    public static FeatureMatrix Matrix(JsonElement rows) => FeatureMatrix.FromRows(rows.EnumerateArray().Select(Doubles).ToArray());

    /// <summary>The bundled phishing data: 30 features, labels -1 → 0 and 1 → 1.</summary>
    public static (FeatureMatrix Features, int[] Labels) PhishingData()
    {
        var lines = File.ReadAllLines(Pipeline.Tests.TestPaths.DataFile).Skip(1).Where(l => l.Length > 0).ToArray();
        var rows = new double[lines.Length][];
        var labels = new int[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',').Select(c => double.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            rows[i] = cells[..30];
            labels[i] = cells[30] > 0 ? 1 : 0;
        }

        return (FeatureMatrix.FromRows(rows), labels);
    }

    /// <summary>A seeded stratified 80/20 split of the phishing data.</summary>
    public static (FeatureMatrix TrainX, int[] TrainY, FeatureMatrix TestX, int[] TestY) PhishingSplit(int seed = 42)
    {
        var (x, y) = PhishingData();
        var split = ModelSelection.TrainTestSplit.Stratified(y, 0.2, seed);
        return (x.SelectRows(split.Train), split.Train.Select(i => y[i]).ToArray(), x.SelectRows(split.Test), split.Test.Select(i => y[i]).ToArray());
    }

    public static double F1(Models.IClassifierModel model, FeatureMatrix x, int[] y)
    {
        var p = new double[x.Rows];
        model.PredictProbabilities(x, p);
        return Metrics.BinaryClassificationMetrics.Compute(y, p, positiveLabel: 1).F1;
    }
}
