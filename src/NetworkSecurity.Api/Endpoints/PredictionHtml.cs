using System.Globalization;
using System.Text;
using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>The prediction table: counts first, then every record with its verdict; phishing rows highlighted. Every cell is encoded.</summary>
public static class PredictionHtml
{
    public static string Render(PredictionBatch batch) => HtmlLayout.Page("Predictions", html =>
    {
        html.Append("<section><h2>Predictions</h2><div class=\"counts\">")
            .Append(CultureInfo.InvariantCulture, $"<span>Records <b>{batch.Rows.Count:N0}</b></span>")
            .Append(CultureInfo.InvariantCulture, $"<span>Phishing <b id=\"phishing-count\">{batch.PhishingCount:N0}</b></span>")
            .Append(CultureInfo.InvariantCulture, $"<span>Legitimate <b id=\"legitimate-count\">{batch.LegitimateCount:N0}</b></span>")
            .Append("<span class=\"muted\">model ").Append(HtmlLayout.Encode(batch.ModelVersion)).Append("</span></div></section>");

        html.Append("<section><div class=\"scroll\"><table id=\"predictions\"><thead><tr><th>#</th>");
        foreach (var column in batch.Columns)
        {
            html.Append("<th>").Append(HtmlLayout.Encode(column)).Append("</th>");
        }

        html.Append("<th>").Append(PhishingPredictor.PredictionColumn).Append("</th><th>").Append(PhishingPredictor.ProbabilityColumn)
            .Append("</th><th>").Append(PhishingPredictor.VerdictColumn).Append("</th></tr></thead><tbody>");
        var index = 0;
        foreach (var row in batch.Rows)
        {
            index++;
            html.Append(row.IsPhishing ? "<tr class=\"phishing\">" : "<tr>")
                .Append(CultureInfo.InvariantCulture, $"<td>{index}</td>");
            foreach (var value in row.Values)
            {
                html.Append("<td>").Append(HtmlLayout.Encode(value)).Append("</td>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<td>{row.PredictedClass}</td><td>{row.PhishingProbability:0.0000}</td><td class=\"verdict\">{row.Verdict}</td></tr>");
        }

        html.Append("</tbody></table></div></section>");
    });
}
