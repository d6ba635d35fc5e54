using Microsoft.AspNetCore.Http.HttpResults;
using NetworkSecurity.Pipeline;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>ProblemDetails responses shared by the endpoints. Messages are written for the caller; no stack traces.</summary>
public static class Problems
{
    public static ProblemHttpResult BadInput(PipelineException ex) =>
        TypedResults.Problem(
            title: "The input is not valid",
            detail: ex.Message,
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = ex.Problems.Select(p => new ProblemItem(p.Location, p.Column, p.Field, p.Message)).ToArray(),
            });

    public static ProblemHttpResult NoModel(HttpContext context, int retryAfterSeconds)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            title: "No model is ready yet",
            detail: "The service has no trained model yet (the first training run may be in progress). Retry later or POST /train.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    public static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(title: "The request is too large", detail: detail, statusCode: StatusCodes.Status413PayloadTooLarge);

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) =>
        TypedResults.Problem(
            title: "Unsupported content type",
            detail: $"Content type '{contentType ?? "(none)"}' is not supported: send a CSV as multipart/form-data (field 'file') or as a text/csv body.",
            statusCode: StatusCodes.Status415UnsupportedMediaType);
}

/// <summary>One located problem in the input: line (or record), column number, field name, message.</summary>
public sealed record ProblemItem(string Location, int? Column, string? Field, string Message);
