using System.Globalization;
using System.Text;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// The prediction table: a summary line on top, then one row per record with what the analyst reads first (row number,
/// verdict, phishing probability) in the first, sticky columns, and the input columns after them, compact and scrollable.
/// Every cell is encoded. Written in chunks so a large answer streams instead of being built in memory.
/// </summary>
public static class PredictionHtml
{
    private const int RowsPerChunk = 1000;
    private const string WhyColumn = "why";
    private const string RowColumn = "#";

    public static async Task WriteAsync(TextWriter output, PredictionSummary summary, IEnumerable<PredictedRecord> records, CancellationToken cancellationToken)
    {
        var html = new StringBuilder(64 * 1024);
        html.Append(HtmlLayout.Start("Predictions"))
            .Append("<section><h2>Predictions</h2><p class=\"counts\" id=\"summary\">")
            .Append(CultureInfo.InvariantCulture, $"<span><b id=\"record-count\">{summary.Count:N0}</b> records</span>")
            .Append(CultureInfo.InvariantCulture, $"<span class=\"bad\"><b id=\"phishing-count\">{summary.PhishingCount:N0}</b> phishing</span>")
            .Append(CultureInfo.InvariantCulture, $"<span class=\"good\"><b id=\"legitimate-count\">{summary.LegitimateCount:N0}</b> legitimate</span>")
            .Append("<span class=\"muted\">model <span id=\"model-version\">").Append(HtmlLayout.Encode(summary.ModelVersion)).Append("</span></span></p>")
            .Append(summary.EmptyFeaturesWarning is { } warning ? $"<p class=\"error\" id=\"empty-features\">{HtmlLayout.Encode(warning)}</p>" : "")
            .Append("<div class=\"scroll results\"><table id=\"predictions\"><thead><tr><th class=\"key row\">").Append(RowColumn).Append("</th><th class=\"key verdict\">")
            .Append(PhishingPredictor.VerdictColumn).Append("</th><th class=\"key prob\">").Append(PhishingPredictor.ProbabilityColumn)
            .Append("</th>");
        var explained = summary.Explanations is not null;
        if (explained)
        {
            html.Append("<th class=\"why\" title=\"top features toward phishing (+) or legitimate (-), ").Append(HtmlLayout.Encode(summary.Explanations!.FirstOrDefault()?.Scale ?? "")).Append("\">").Append(WhyColumn).Append("</th>");
        }

        html.Append("<th>").Append(PhishingPredictor.PredictionColumn).Append("</th>");
        // Named as the CSV answer names them: a previous answer scored again showed its old verdict columns under the
        // same names as the new ones (two 'verdict' columns that could disagree); they are input_verdict, ….
        string[] added = explained
            ? [RowColumn, PhishingPredictor.VerdictColumn, PhishingPredictor.ProbabilityColumn, PhishingPredictor.PredictionColumn, WhyColumn]
            : [RowColumn, PhishingPredictor.VerdictColumn, PhishingPredictor.ProbabilityColumn, PhishingPredictor.PredictionColumn];
        foreach (var column in EchoedColumns.InAnswer(summary.Columns, added))
        {
            html.Append("<th>").Append(HtmlLayout.Encode(column)).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        var index = 0;
        foreach (var row in records)
        {
            index++;
            html.Append(row.IsPhishing ? "<tr class=\"phishing\">" : "<tr>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"key row\">{index}</td><td class=\"key verdict\">{row.Verdict}</td><td class=\"key prob\">{DecisionRule.Rounded(row.PhishingProbability, 4):0.0000}</td>");
            if (explained)
            {
                // The verdict in words: the top features asked for (?explain=N), each with the value seen and the push
                // toward phishing (+) or away (-).
                html.Append("<td class=\"why\">").Append(HtmlLayout.Encode(row.Explanation?.InWords(row.Explanation.Features.Count))).Append("</td>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<td>{row.PredictedClass}</td>");
            foreach (var value in row.Values)
            {
                html.Append("<td>").Append(HtmlLayout.Encode(value)).Append("</td>");
            }

            html.Append("</tr>");
            if (index % RowsPerChunk == 0)
            {
                await output.WriteAsync(html, cancellationToken).ConfigureAwait(false);
                html.Clear();
            }
        }

        html.Append("</tbody></table></div></section>").Append(HtmlLayout.End);
        await output.WriteAsync(html, cancellationToken).ConfigureAwait(false);
    }
}
