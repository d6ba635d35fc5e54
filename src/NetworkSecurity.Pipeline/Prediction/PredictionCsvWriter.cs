using System.Globalization;
using CsvHelper;
using NetworkSecurity.Learning.Metrics;

namespace NetworkSecurity.Pipeline.Prediction;

/// <summary>
/// Writes predictions as CSV: the input columns, then predicted_column, phishing_probability and verdict; with
/// explanations also explanation_scale, explanation_base and, per explained feature k, why_k_feature, why_k_value,
/// why_k_imputed and why_k_contribution (toward phishing).
/// Cells that a spreadsheet would run as a formula (=, +, -, @ …) are escaped, except plain numbers.
/// Rows are written in chunks with asynchronous writes, so an HTTP response can stream.
/// </summary>
public static class PredictionCsvWriter
{
    private const int RowsPerChunk = 2000;

    /// <param name="echo">false: the answer leaves out the input columns (a compact answer: row, verdict columns, explanation).</param>
    public static async Task WriteAsync(TextWriter output, PredictionSummary summary, IEnumerable<PredictedRecord> records, CancellationToken cancellationToken, bool echo = true)
    {
        var buffer = new StringWriter(CultureInfo.InvariantCulture);
        using var csv = CsvWriter.Create(buffer, new CsvWriterOptions(), leaveOpen: true);
        var top = summary.ExplainTop; // the records carry their explanations (kept by the summary, or made as they are read)
        List<string> added = [PhishingPredictor.PredictionColumn, PhishingPredictor.ProbabilityColumn, PhishingPredictor.VerdictColumn];
        if (top > 0)
        {
            added.AddRange(["explanation_scale", "explanation_base"]);
            for (var k = 1; k <= top; k++)
            {
                added.AddRange([$"why_{k}_feature", $"why_{k}_value", $"why_{k}_imputed", $"why_{k}_contribution"]);
            }
        }

        // A repeated input name is name_2, as in the JSON answer; one named like a column this answer adds is input_<name>.
        IEnumerable<string> inputs = echo ? EchoedColumns.InAnswer(summary.Columns, added) : ["row"];
        foreach (var name in inputs.Concat(added))
        {
            csv.WriteField(Neutralize(name));
        }

        csv.EndRecord();
        var rows = 0;
        foreach (var row in records)
        {
            if (!echo)
            {
                csv.WriteField(row.Location);
            }
            else
            {
                foreach (var value in row.Values)
                {
                    csv.WriteField(Neutralize(value ?? ""));
                }
            }

            csv.WriteField(row.PredictedClass.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(DecisionRule.Rounded(row.PhishingProbability, 6).ToString("0.######", CultureInfo.InvariantCulture));
            csv.WriteField(row.Verdict);
            if (top > 0 && row.Explanation is { } why)
            {
                WriteExplanation(csv, why, top);
            }
            csv.EndRecord();
            if (++rows % RowsPerChunk == 0)
            {
                await FlushAsync(csv, buffer, output, cancellationToken).ConfigureAwait(false);
            }
        }

        await FlushAsync(csv, buffer, output, cancellationToken).ConfigureAwait(false);
    }

    private static void WriteExplanation(CsvWriter csv, VerdictExplanation why, int top)
    {
        csv.WriteField(why.Scale);
        csv.WriteField(why.BaseValue.ToString("0.######", CultureInfo.InvariantCulture));
        for (var k = 0; k < top; k++)
        {
            var feature = k < why.Features.Count ? why.Features[k] : null;
            csv.WriteField(Neutralize(feature?.Feature ?? ""));
            csv.WriteField(feature?.Value.ToString(CultureInfo.InvariantCulture) ?? "");
            csv.WriteField(feature is null ? "" : feature.Imputed ? "true" : "false");
            // Rounded first, then + 0.0: a contribution within 5e-7 of zero prints as 0, not -0.
            csv.WriteField(feature is null ? "" : (Math.Round(feature.Contribution, 6) + 0.0).ToString("0.######", CultureInfo.InvariantCulture));
        }
    }

    private static async Task FlushAsync(CsvWriter csv, StringWriter buffer, TextWriter output, CancellationToken cancellationToken)
    {
        csv.Flush();
        var text = buffer.GetStringBuilder();
        await output.WriteAsync(text, cancellationToken).ConfigureAwait(false);
        text.Clear();
    }

    /// <summary>
    /// Prefixes a quote to text a spreadsheet would evaluate: a cell starting with = + - @ | % (or their full-width
    /// forms, which spreadsheets fold to ASCII), also after leading whitespace, or starting with a tab or line break.
    /// Numbers such as -1 stay as they are.
    /// </summary>
    public static string Neutralize(string cell)
    {
        if (cell.Length == 0)
        {
            return cell;
        }

        var i = 0;
        while (i < cell.Length && char.IsWhiteSpace(cell[i]))
        {
            i++;
        }

        var risky = cell[0] is '\t' or '\r' or '\n'
            || (i < cell.Length && cell[i] is '=' or '+' or '-' or '@' or '|' or '%' or '\uFF1D' or '\uFF0B' or '\uFF0D' or '\uFF20' or '\uFF5C' or '\uFF05');
        if (!risky)
        {
            return cell;
        }

        // Finite only: "-Infinity" and "-NaN" parse as numbers here, but a spreadsheet runs them as formulas (#NAME?).
        return double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? cell : "'" + cell;
    }
}
