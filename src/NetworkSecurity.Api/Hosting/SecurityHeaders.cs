using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NetworkSecurity.Api.Endpoints;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Headers on every response: no MIME sniffing, no referrer leaks, and on the service's own pages a Content-Security-Policy
/// that allows only the pages' own inline script and style (by SHA-256 hash, computed from the rendered pages at start),
/// same-origin fetches and form posts. Responses that are never pages (JSON endpoints, health, the model card) get the
/// short API policy that allows nothing, which keeps the hot path's headers small; so do the home page's and POST
/// /predict's answers that are not HTML (JSON, CSV, problems). Swagger UI keeps its own scripts and gets only
/// frame-ancestors 'none' (and X-Frame-Options for older browsers).
/// </summary>
public static partial class SecurityHeaders
{
    public const string ContentTypeOptions = "nosniff";
    public const string ReferrerPolicy = "no-referrer";

    /// <summary>The policy for the HTML pages; every value is fixed at start, so setting it costs no allocation.</summary>
    public static string ContentSecurityPolicy { get; } = BuildPolicy();

    /// <summary>The policy for responses that are never rendered as pages: nothing may load, nothing may frame them.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(next => context =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = ContentTypeOptions;
            headers["Referrer-Policy"] = ReferrerPolicy;
            var path = context.Request.Path;
            if (MayBePage(path))
            {
                // Page or not is known once the answer is chosen: POST /predict answers HTML, JSON, CSV or a problem.
                context.Response.OnStarting(SetPolicyByContentType, context);
            }
            else if (!path.StartsWithSegments("/swagger"))
            {
                headers.ContentSecurityPolicy = ApiContentSecurityPolicy;
            }
            else
            {
                // Swagger UI needs its own scripts (no CSP here), but no other site may frame it: its "Try it out" sends
                // requests, POST /train among them, as whoever views it (clickjacking).
                headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                headers.XFrameOptions = "DENY";
            }

            return next(context);
        });

    private static Task SetPolicyByContentType(object state)
    {
        var response = ((HttpContext)state).Response;
        response.Headers.ContentSecurityPolicy = response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true
            ? ContentSecurityPolicy
            : ApiContentSecurityPolicy;
        return Task.CompletedTask;
    }

    // The home page and POST /predict (an HTML table when the client asks for one); everything else answers JSON, CSV or text.
    private static bool MayBePage(PathString path) =>
        !path.HasValue || path.Value == "/" || path.Equals("/predict", StringComparison.OrdinalIgnoreCase) || path.Equals("/predict/", StringComparison.OrdinalIgnoreCase);

    private static string BuildPolicy()
    {
        var pages = HomePage.Render(null, null, apiKeyRequired: false) + HomePage.Render(null, null, apiKeyRequired: true) + HtmlLayout.Start("");
        var scripts = Hashes(ScriptPattern(), pages);
        var styles = Hashes(StylePattern(), pages);
        return "default-src 'none'; "
            + $"script-src {(scripts.Length == 0 ? "'none'" : scripts)}; "
            + $"style-src {(styles.Length == 0 ? "'none'" : styles)}; "
            + "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    }

    private static string Hashes(Regex pattern, string html) =>
        string.Join(' ', pattern.Matches(html)
            .Select(m => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(m.Groups[1].Value)))}'")
            .Distinct(StringComparer.Ordinal));

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ScriptPattern();

    [GeneratedRegex("<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex StylePattern();
}
