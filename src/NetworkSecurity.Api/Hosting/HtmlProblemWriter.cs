using System.Globalization;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Endpoints;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// A refusal of POST /predict (or a GET of its address) as a page, for a browser (an Accept that names text/html and prefers it, as the home page's
/// form sends): the raw problem JSON, with no way back, was all a user who uploaded a bad file saw. Same status; the
/// title, the detail, every located problem in a table, and a link to try another file. Other clients (curl's */*,
/// JSON, CSV) keep the ProblemDetails JSON; registered before the JSON writers.
/// </summary>
internal sealed class HtmlProblemWriter(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context)
    {
        var request = context.HttpContext.Request;
        // GET too: a browser that reopens or bookmarks the results address gets its 405 as a page with a way back.
        return (HttpMethods.IsPost(request.Method) || HttpMethods.IsGet(request.Method))
            && (request.Path.Equals("/predict", StringComparison.OrdinalIgnoreCase) || request.Path.Equals("/predict/", StringComparison.OrdinalIgnoreCase))
            && AcceptNegotiation.NamesHtml(request);
    }

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        var status = problem.Status ?? http.Response.StatusCode;
        var page = HtmlLayout.Page("Could not check the file", html =>
        {
            html.Append("<section id=\"problem\"><h2>").Append(HtmlLayout.Encode(problem.Title ?? Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)))
                .Append("</h2><p class=\"error\" id=\"problem-detail\">").Append(HtmlLayout.Encode(problem.Detail)).Append("</p>")
                .Append("<p><a id=\"try-again\" href=\"/\">Check another file</a></p>");
            if (problem.Extensions.TryGetValue("errors", out var errors) && errors is IEnumerable<ProblemItem> items && items.Any())
            {
                html.Append("<div class=\"scroll\"><table id=\"problem-errors\"><thead><tr><th>where</th><th>column</th><th>field</th><th>problem</th></tr></thead><tbody>");
                foreach (var item in items)
                {
                    html.Append("<tr><td class=\"text\">").Append(HtmlLayout.Encode(item.Location))
                        .Append("</td><td>").Append(item.Column?.ToString(CultureInfo.InvariantCulture) ?? "")
                        .Append("</td><td class=\"text\">").Append(HtmlLayout.Encode(item.Field))
                        .Append("</td><td class=\"text\">").Append(HtmlLayout.Encode(item.Message)).Append("</td></tr>");
                }

                html.Append("</tbody></table></div>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">HTTP {status} · trace id {HtmlLayout.Encode(System.Diagnostics.Activity.Current?.Id ?? http.TraceIdentifier)}</p></section>");
        });
        http.Response.ContentType = "text/html; charset=utf-8";
        return new ValueTask(http.Response.WriteAsync(page, http.RequestAborted));
    }
}
