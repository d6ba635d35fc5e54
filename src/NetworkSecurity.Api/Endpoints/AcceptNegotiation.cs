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
            var (quality, specificity, order) = Rank(types, candidate);
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
    /// Whether Accept rules JSON out: the most specific range that covers application/json (itself, application/* or
    /// */*) has q=0. POST /predict/json answers JSON only, and answered it whatever Accept said; as POST /predict does, an
    /// Accept that names nothing it produces (text/csv, image/png) still gets it, and one that refuses it a 406.
    /// </summary>
    public static bool RulesOutJson(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        if (accept.Count == 0 || (accept.Count == 1 && accept[0] is "*/*" or "application/json"))
        {
            return false; // what clients send (curl's */*, none), said without parsing on the one-record path
        }

        return Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList(accept, out var types)
            && Rank(types, PredictionFormat.Json) is { Specificity: >= 0, Quality: <= 0 };
    }

    // The most specific range that covers a format (the first listed among equally specific ones; RFC 9110 12.5.1): its q,
    // its specificity (0 for */*, 1 for type/*, 2 for a full type; -1 when no range covers it) and its position.
    private static (double Quality, int Specificity, int Order) Rank(IList<Microsoft.Net.Http.Headers.MediaTypeHeaderValue> types, PredictionFormat candidate)
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

        return (quality, specificity, order);
    }

    /// <summary>
    /// The first media range in Accept whose q is not a quality value (RFC 9110 12.4.2: 0 to 1, at most three decimals),
    /// or null. Such a q was read as 1: "application/json;q=-1" asked for JSON, "text/csv;q=5" tied with the rest.
    /// </summary>
    public static string? InvalidQuality(HttpRequest request)
    {
        foreach (var value in request.Headers.Accept)
        {
            if (value is null || !value.Contains(';', StringComparison.Ordinal))
            {
                continue; // no parameter, no q (the usual Accept, read without splitting it)
            }

            foreach (var range in (value ?? "").Split(','))
            {
                foreach (var parameter in range.Split(';').Skip(1))
                {
                    var (name, q) = parameter.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0
                        ? (parameter[..eq].Trim(), parameter[(eq + 1)..].Trim())
                        : (parameter.Trim(), "");
                    if (name.Equals("q", StringComparison.OrdinalIgnoreCase) && !IsQuality(q))
                    {
                        return range.Trim();
                    }
                }
            }
        }

        return null;
    }

    private static bool IsQuality(string q) =>
        q.Length is >= 1 and <= 5 && (q.Length == 1 || q[1] == '.')
        && (q[0] == '0' ? q.Skip(2).All(char.IsAsciiDigit) : q[0] == '1' && q.Skip(2).All(c => c == '0'));

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
