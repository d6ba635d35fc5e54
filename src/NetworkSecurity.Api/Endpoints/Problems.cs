using Microsoft.AspNetCore.Http.HttpResults;
using NetworkSecurity.Api.Hosting;
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
        // A model folder whose versions were all refused (trained on another schema, damaged) is not "no trained model":
        // say why they were, as /health/ready does.
        var refused = context.RequestServices.GetService<Models.LiveModel>()?.Status is { Version: null, Skipped.Count: > 0 } status
            ? $" The model folder's versions could not be served: {status.Reason}"
            : "";
        // After a failed run, or one whose model the quality gate refused, nothing comes by waiting: say why, and what to do.
        if (context.RequestServices.GetService<Training.TrainingJobQueue>()?.Latest?.Status.WhyNoModel() is { } why)
        {
            return TypedResults.Problem(
                title: "No model is ready",
                detail: $"The service has no trained model: {why} Fix the cause and POST /train.{refused}",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        // Nothing is coming either when the service does not train by itself and nobody asked it to.
        if (context.RequestServices.GetService<Training.TrainingJobQueue>()?.Latest is null
            && context.RequestServices.GetService<Microsoft.Extensions.Options.IOptions<Hosting.ApiOptions>>()?.Value.TrainOnStartup == false)
        {
            return TypedResults.Problem(
                title: "No model is ready",
                detail: $"The service has no trained model and is not training one (Api:TrainOnStartup is off): POST /train to train one.{refused}",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        RetryAfter(context, retryAfterSeconds);
        return TypedResults.Problem(
            title: "No model is ready yet",
            detail: $"The service has no trained model yet (the first training run may be in progress). Retry later or POST /train.{refused}",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    public static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(title: "The request is too large", detail: detail, statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>
    /// The client went away mid-request: 499 (nginx's "client closed request"), logged once at Information by the
    /// request log; nothing is sent because nobody is listening.
    /// </summary>
    public static ProblemHttpResult ClientClosed() =>
        TypedResults.Problem(title: "Client closed the request", statusCode: StatusCodes.Status499ClientClosedRequest);

    /// <summary>Whether <paramref name="exception"/> only says that the client disconnected.</summary>
    public static bool IsClientAbort(Exception exception, CancellationToken requestAborted) =>
        (requestAborted.IsCancellationRequested && exception is OperationCanceledException or IOException)
        // Kestrel's word for a connection closed before the announced body arrived.
        || exception is BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad
            && bad.Message.StartsWith("Unexpected end of request content", StringComparison.Ordinal);

    /// <summary>Scoring took longer than the configured budget: the work was stopped. No Retry-After: the same request would take as long again.</summary>
    public static ProblemHttpResult TooSlow(double budgetSeconds) =>
        TypedResults.Problem(
            title: "Scoring took too long",
            detail: $"Scoring this request took longer than the limit of {budgetSeconds:0.###} s and was stopped; sent again, it would take as long. Send fewer records per request (or ask for fewer explanations).",
            statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>Every upload slot stayed taken while the request waited: the same request later will most likely get one.</summary>
    public static ProblemHttpResult UploadsBusy(HttpContext context, int slots, double waitedSeconds, int retryAfterSeconds)
    {
        RetryAfter(context, retryAfterSeconds);
        return TypedResults.Problem(
            title: "Too many large uploads at once",
            detail: $"{slots} large upload(s) (over 1 MiB, counting what explanations asked for may take) were being scored and none finished within {waitedSeconds:0.###} s of waiting (Api:MaxConcurrentUploads = {slots}); send it again later, or to another replica.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The large uploads in flight hold all the bytes allowed: the same request later will most likely fit.</summary>
    public static ProblemHttpResult UploadBytesInFlight(HttpContext context, UploadSlots uploads, int retryAfterSeconds)
    {
        RetryAfter(context, retryAfterSeconds);
        // What is held now, not the budget: "already hold <budget> bytes" was said when others held far less.
        var budget = uploads.ByteBudget;
        return TypedResults.Problem(
            title: "Too many large uploads at once",
            detail: $"The uploads over 1 MiB being received, scored or answered hold {uploads.HeldBytes:N0} of the {budget:N0} bytes this service holds at once (Api:MaxUploadBytesInFlight = {budget:N0}), and this one does not fit beside them; send it again later, or to another replica.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// Counts a scored request's explanations with its body until the answer is written; null when they fit. What no wait
    /// can make fit (the request alone holds more than the whole budget) is a 413: it was a 503 saying to send it again
    /// later, which a client doing so met every time, after the scoring each time.
    /// </summary>
    public static ProblemHttpResult? HoldExplained(HttpContext context, UploadSlots uploads, UploadSlots.Reservation held, long bytes, int retryAfterSeconds)
    {
        if (bytes > uploads.ByteBudget)
        {
            return TooLarge($"This request and its explanations take about {bytes:N0} bytes until the answer is written, more than the service holds for all uploads at once (Api:MaxUploadBytesInFlight = {uploads.ByteBudget:N0}): ask for fewer features (?explain=1 to 3) or send fewer records per request.");
        }

        return held.TryGrow(bytes) ? null : UploadBytesInFlight(context, uploads, retryAfterSeconds);
    }

    /// <summary>Sets Retry-After (whole seconds) on an answer the same request may get past later.</summary>
    public static void RetryAfter(HttpContext context, int seconds) =>
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The service stopped scoring because it is shutting down (SIGTERM): the request can go elsewhere or come back.</summary>
    public static ProblemHttpResult ShuttingDown(HttpContext context, int retryAfterSeconds)
    {
        RetryAfter(context, retryAfterSeconds);
        return TypedResults.Problem(
            title: "Service shutting down",
            detail: "The service is shutting down and stopped scoring this request; send it again (to another replica, or here once it is back).",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Kestrel refused the body (too large, cut short): its status with a readable message.</summary>
    public static ProblemHttpResult FromBadRequest(BadHttpRequestException ex) =>
        ex.StatusCode == StatusCodes.Status413PayloadTooLarge
            ? TooLarge($"The request body is too large ({ex.Message})")
            : TypedResults.Problem(
                title: ex.StatusCode == StatusCodes.Status408RequestTimeout ? "Request body too slow" : "Malformed request",
                detail: ex.Message,
                statusCode: ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : StatusCodes.Status400BadRequest);

    public static ProblemHttpResult InvalidAcceptQuality(string range) =>
        TypedResults.Problem(
            title: "Invalid Accept header",
            detail: $"Accept: '{range}' has a q that is not a quality value; q goes from 0 (never) to 1 (the default), with at most three decimals, e.g. 'application/json;q=0.5'.",
            statusCode: StatusCodes.Status400BadRequest);

    public static ProblemHttpResult NotAcceptable(string accept, string produced) =>
        TypedResults.Problem(
            title: "Not acceptable",
            detail: $"Accept '{accept}' rules out every format this endpoint answers in: {produced}.",
            statusCode: StatusCodes.Status406NotAcceptable);

    /// <summary>
    /// Fills in what routing's own answers leave out: a body whose Content-Type the endpoint does not accept is refused
    /// by routing (415) before the endpoint runs, with no detail; the caller should still learn what to send. A 405's
    /// Allow gains HEAD where GET is allowed.
    /// </summary>
    private static bool IsPredictPath(HttpRequest request) =>
        request.Path.Equals("/predict", StringComparison.OrdinalIgnoreCase) || request.Path.Equals("/predict/", StringComparison.OrdinalIgnoreCase);

    public static void CompleteRoutingProblem(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Status == StatusCodes.Status405MethodNotAllowed && context.HttpContext.Response.Headers.Allow is { Count: > 0 } allow
            && allow.ToString().Split(',', StringSplitOptions.TrimEntries) is var methods && methods.Contains("GET") && !methods.Contains("HEAD"))
        {
            // HEAD is answered for every GET route (HeadRequests), which routing does not know when it lists the methods.
            context.HttpContext.Response.Headers.Allow = allow.ToString() + ", HEAD";
        }

        if (problem.Status == StatusCodes.Status405MethodNotAllowed && problem.Detail is null && IsPredictPath(context.HttpContext.Request)
            && HttpMethods.IsGet(context.HttpContext.Request.Method))
        {
            // The results address reopened or bookmarked in a browser: say where scoring starts (a page for a browser).
            problem.Detail = $"POST /predict scores the CSV sent with it: there is nothing to show at this address. Upload a file on the home page (/). {Endpoints}";
            context.HttpContext.Response.Headers.Vary = "Accept";
        }

        // Routing's other refusals came with a title only ("Not Found", "Method Not Allowed"): say what was asked and what there is.
        if (problem.Detail is null && problem.Status == StatusCodes.Status404NotFound)
        {
            problem.Detail = $"There is no endpoint at '{Cut(context.HttpContext.Request.Path.Value)}'. {Endpoints}";
        }

        if (problem.Detail is null && problem.Status == StatusCodes.Status405MethodNotAllowed)
        {
            var allowed = context.HttpContext.Response.Headers.Allow.ToString();
            problem.Detail = $"{Cut(context.HttpContext.Request.Method)} is not allowed on '{Cut(context.HttpContext.Request.Path.Value)}'{(allowed.Length > 0 ? $", which answers {allowed}" : "")}. {Endpoints}";
        }

        if (problem.Detail is not null || problem.Status != StatusCodes.Status415UnsupportedMediaType)
        {
            return;
        }

        // Routing's own 415 (a content type the endpoint does not accept): the same title and detail as the endpoint's,
        // and, as on every refusal of a prediction endpoint, the model that would have scored.
        var request = context.HttpContext.Request;
        problem.Title = "Unsupported content type";
        problem.Detail = request.Headers.ContentType.Count > 1 ? SeveralContentTypesDetail(request.Headers.ContentType)
            : (request.Path.StartsWithSegments("/predict/json", StringComparison.OrdinalIgnoreCase)
                ? UnsupportedJsonMediaType(request.ContentType)
                : UnsupportedMediaType(request.ContentType)).ProblemDetails.Detail;
        if (IsPredictPath(request))
        {
            // As on every answer of POST /predict: a browser gets this refusal as a page, others as JSON.
            context.HttpContext.Response.Headers.Vary = "Accept";
        }

        if (request.Path.StartsWithSegments("/predict", StringComparison.OrdinalIgnoreCase)
            && context.HttpContext.RequestServices.GetService<Models.LiveModel>()?.Current is { } bundle)
        {
            context.HttpContext.Response.Headers[PredictionApi.ModelVersionHeader] = bundle.Version;
            context.HttpContext.Items[PredictionApi.ModelVersionHeader] = bundle.Version;
        }
    }

    private const string Endpoints = "This service answers GET / (the page), POST /predict, POST /predict/json, POST /train, GET /train, GET /train/{id}, GET /model, GET /health/live and GET /health/ready (HEAD wherever GET is); the API is described at /swagger.";

    // The client's own text, echoed: cut, since a path may be thousands of characters long.
    private static string Cut(string? text) => text is null ? "" : text.Length <= 100 ? text : text[..100] + "…";

    // A body sent to the other predict endpoint: its 415 says where it goes.
    private static bool IsJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type)
        && (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A request with more than one Content-Type header: which one its body is in is a guess. The endpoints read them
    /// joined, and a second header's charset was dropped without a word ("text/csv; charset=latin1" beside "text/csv;
    /// charset=utf-8" was read as UTF-8); two media types got a 415 naming one odd type. Null with one or none.
    /// </summary>
    public static ProblemHttpResult? SeveralContentTypes(HttpRequest request) =>
        request.Headers.ContentType.Count < 2 ? null
            : TypedResults.Problem(title: "Unsupported content type", detail: SeveralContentTypesDetail(request.Headers.ContentType), statusCode: StatusCodes.Status415UnsupportedMediaType);

    private static string SeveralContentTypesDetail(Microsoft.Extensions.Primitives.StringValues types) =>
        $"The request has {types.Count} Content-Type headers ({string.Join(", ", types.Take(5).Select(t => $"'{Cut(t)}'"))}): send one, naming the body's media type.";

    public static ProblemHttpResult UnsupportedJsonMediaType(string? contentType) =>
        TypedResults.Problem(
            title: "Unsupported content type",
            detail: $"Content type '{contentType ?? "(none)"}' is not supported: send application/json.{(UploadReader.IsCsv(contentType) || UploadReader.IsMultipart(contentType) ? " A CSV upload goes to POST /predict." : "")}",
            statusCode: StatusCodes.Status415UnsupportedMediaType);

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) =>
        TypedResults.Problem(
            title: "Unsupported content type",
            detail: $"Content type '{contentType ?? "(none)"}' is not supported: send a CSV as multipart/form-data (field 'file') or as a text/csv body.{(IsJson(contentType) ? " JSON records go to POST /predict/json." : "")}",
            statusCode: StatusCodes.Status415UnsupportedMediaType);
}

/// <summary>One located problem in the input: line (or record), column number, field name, message.</summary>
public sealed record ProblemItem(string Location, int? Column, string? Field, string Message);
