using System.Globalization;
using CsvHelper;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>
/// Writes predictions as CSV: the input columns, then predicted_column, phishing_probability and verdict.
/// Cells that a spreadsheet would run as a formula (=, +, -, @ …) are escaped, except plain numbers.
/// </summary>
public static class PredictionCsvWriter
{
    public static void Write(TextWriter writer, PredictionBatch batch)
    {
        using var csv = CsvWriter.Create(writer, new CsvWriterOptions(), leaveOpen: true);
        var header = batch.Columns.Concat([PhishingPredictor.PredictionColumn, PhishingPredictor.ProbabilityColumn, PhishingPredictor.VerdictColumn]);
        foreach (var name in header)
        {
            csv.WriteField(Neutralize(name));
        }

        csv.EndRecord();
        foreach (var row in batch.Rows)
        {
            foreach (var value in row.Values)
            {
                csv.WriteField(Neutralize(value ?? ""));
            }

            csv.WriteField(row.PredictedClass.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(row.PhishingProbability.ToString("0.######", CultureInfo.InvariantCulture));
            csv.WriteField(row.Verdict);
            csv.EndRecord();
        }
    }

    /// <summary>Prefixes a quote to text a spreadsheet would evaluate; numbers such as -1 stay as they are.</summary>
    public static string Neutralize(string cell)
    {
        if (cell.Length == 0 || cell[0] is not ('=' or '+' or '-' or '@' or '\t' or '\r' or '|' or '%'))
        {
            return cell;
        }

        return double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? cell : "'" + cell;
    }
}
