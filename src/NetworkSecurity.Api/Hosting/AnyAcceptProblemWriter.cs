using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Writes ProblemDetails as application/problem+json when the built-in writer declines because the client's Accept
/// header does not name JSON (a browser's text/html): routing's 404, 405 and 415 then came as a bare text line. Registered
/// after the built-in writer, so clients that accept JSON get exactly its answer.
/// </summary>
internal sealed class AnyAcceptProblemWriter(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(problem, problem.GetType(), options: null, contentType: "application/problem+json"));
    }
}
