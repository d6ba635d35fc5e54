namespace NetworkSecurity.Api.Endpoints;

/// <summary>The formats POST /predict answers in.</summary>
public enum PredictionFormat
{
    Html,
    Json,
    Csv,
}

/// <summary>Which of <see cref="PredictionFormat"/> a request's Accept header asks for.</summary>
public static class AcceptNegotiation
{
    /// <summary>
    /// The output format from Accept (RFC 9110 12.5.1): the acceptable type with the highest q wins, ties going to the
    /// most specific range, then to the one listed first; q=0 rules a type out; */* and text/* mean HTML (as the seed
    /// answered curl), application/* JSON. No Accept, or one naming nothing we produce, gets HTML unless it rules HTML
    /// out: false then (406).
    /// </summary>
    public static bool TryNegotiate(HttpRequest request, out PredictionFormat format)
    {
        format = PredictionFormat.Html;
        var accept = request.Headers.Accept;
        if (accept.Count == 0 || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList(accept, out var types) || types.Count == 0)
        {
            return true;
        }

        // Per format, the most specific range that covers it decides its quality (RFC 9110 12.5.1): "application/json,
        // */*;q=0" accepts JSON only; "text/html;q=0, */*" everything but HTML.
        var (bestQuality, bestSpecificity, bestOrder, covered) = (0.0, -1, int.MaxValue, false);
        foreach (var candidate in (PredictionFormat[])[PredictionFormat.Html, PredictionFormat.Json, PredictionFormat.Csv])
        {
            var (quality, specificity, order) = (-1.0, -1, int.MaxValue);
            for (var i = 0; i < types.Count; i++)
            {
                var name = types[i].MediaType.Value ?? "";
                var rangeSpecificity = name == "*/*" ? 0 : name.EndsWith("/*", StringComparison.Ordinal) ? 1 : 2;
                if (Formats(name).Contains(candidate) && rangeSpecificity > specificity)
                {
                    (quality, specificity, order) = (types[i].Quality ?? 1.0, rangeSpecificity, i);
                }
            }

            covered |= specificity >= 0;
            // Highest quality wins; then the more specific range; then the one listed first; then HTML, JSON, CSV.
            if (quality > 0 && (quality > bestQuality || (quality == bestQuality && (specificity > bestSpecificity || (specificity == bestSpecificity && order < bestOrder)))))
            {
                (bestQuality, bestSpecificity, bestOrder, format) = (quality, specificity, order, candidate);
            }
        }

        // Nothing we produce named at all (say image/png): HTML, as before. Everything named ruled out: 406.
        return bestSpecificity >= 0 || !covered;
    }

    /// <summary>
    /// Whether the client asks for HTML by name (text/html with q above 0) and gets it: a browser. curl's */* gets the
    /// HTML table too, but its refusals stay ProblemDetails JSON, which scripts read.
    /// </summary>
    public static bool NamesHtml(HttpRequest request) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var types)
        && types.Any(t => string.Equals(t.MediaType.Value, "text/html", StringComparison.OrdinalIgnoreCase) && (t.Quality ?? 1.0) > 0)
        && TryNegotiate(request, out var format) && format == PredictionFormat.Html;

    // What a media range in Accept covers, most specific first.
    private static PredictionFormat[] Formats(string mediaType) => mediaType.ToLowerInvariant() switch
    {
        "application/json" => [PredictionFormat.Json],
        "text/csv" => [PredictionFormat.Csv],
        "text/html" => [PredictionFormat.Html],
        "application/*" => [PredictionFormat.Json],
        "text/*" => [PredictionFormat.Html, PredictionFormat.Csv],
        "*/*" => [PredictionFormat.Html, PredictionFormat.Json, PredictionFormat.Csv],
        _ => [],
    };

}
