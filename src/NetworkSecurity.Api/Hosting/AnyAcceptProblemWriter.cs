using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Writes ProblemDetails as application/problem+json when the built-in writer declines because the client's Accept
/// header does not name JSON (a browser's text/html): routing's 404, 405 and 415 then came as a bare text line. Registered
/// after the built-in writer, so clients that accept JSON get exactly its answer; this one gives the same members (type,
/// title, status, trace id) in the same JSON style.
/// </summary>
internal sealed class AnyAcceptProblemWriter(IOptions<ProblemDetailsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ??= context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        problem.Type ??= status switch
        {
            400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
            405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
            406 => "https://tools.ietf.org/html/rfc9110#section-15.5.7",
            415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
            _ => null,
        };
        // Named as the built-in writer names it under the service's JSON naming (trace_id).
        var traceKey = json.Value.SerializerOptions.PropertyNamingPolicy?.ConvertName("traceId") ?? "traceId";
        problem.Extensions.TryAdd(traceKey, Activity.Current?.Id ?? context.HttpContext.TraceIdentifier);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json"));
    }
}
