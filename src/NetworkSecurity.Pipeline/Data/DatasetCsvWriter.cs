using System.Globalization;
using CsvHelper;
using NetworkSecurity.Pipeline.Artifacts;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Data;

/// <summary>Writes a dataset as CSV with the schema's column names and the data set's own label encoding.</summary>
public static class DatasetCsvWriter
{
    public static void Write(string path, DataSchema schema, NetworkDataset dataset) =>
        SafeFile.WriteText(path, writer =>
        {
            using var csv = CsvWriter.Create(writer, new CsvWriterOptions(), leaveOpen: true);
            csv.WriteRecord([.. schema.FeatureNames, schema.Target.Name]);
            var fields = new string[schema.Features.Count + 1];
            for (var r = 0; r < dataset.Count; r++)
            {
                var row = dataset.Features.Row(r);
                for (var c = 0; c < row.Length; c++)
                {
                    fields[c] = double.IsNaN(row[c]) ? "" : row[c].ToString(CultureInfo.InvariantCulture);
                }

                fields[^1] = schema.Target.Classes[dataset.Labels[r]].Value.ToString(CultureInfo.InvariantCulture);
                csv.WriteRecord(fields);
            }
        });
}
