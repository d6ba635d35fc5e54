using Microsoft.AspNetCore.Http.HttpResults;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// The query options an endpoint reads, and nothing else. A misspelt one (<c>?explian=3</c>) was ignored and the caller
/// got an answer without what was asked for; it is refused, as a misspelt command-line option or an unknown JSON
/// property is. Names are not case-sensitive (<c>?Explain=3</c> is explain), as ASP.NET Core reads them.
/// </summary>
public static class QueryOptions
{
    /// <summary>Null when every query option is one of <paramref name="known"/>; otherwise a 400 naming the first unknown one.</summary>
    public static ProblemHttpResult? CheckKnown(HttpRequest request, params string[] known)
    {
        if (request.Query.Count == 0)
        {
            return null; // the usual request: nothing to look at
        }

        foreach (var name in request.Query.Keys)
        {
            if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                var shown = name.Length > 100 ? name[..100] + "…" : name;
                return TypedResults.Problem(
                    title: "Unknown query option",
                    detail: known.Length == 0
                        ? $"Unknown query option '{shown}' on {request.Method} {request.Path}, which takes none."
                        : $"Unknown query option '{shown}' on {request.Method} {request.Path}: the options are {string.Join(", ", known.Select(k => $"'{k}'"))}.",
                    statusCode: StatusCodes.Status400BadRequest);
            }
        }

        return null;
    }
}
