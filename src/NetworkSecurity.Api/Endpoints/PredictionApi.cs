using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>POST /predict (CSV in; HTML, JSON or CSV out) and POST /predict/json (JSON records in, verdicts out).</summary>
public static class PredictionApi
{
    public const string ModelVersionHeader = "X-Model-Version";

    public static RouteGroupBuilder MapPredictionApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/predict").WithTags("Prediction");

        group.MapPost("", PredictCsvAsync)
            .WithName("PredictCsv")
            .WithSummary("Score a CSV of website records")
            .WithDescription("Upload a CSV as multipart/form-data (field 'file') or as a text/csv body. Columns are matched by name or alias in any order; extra columns are echoed but not used; empty cells and 'na' are imputed. The Accept header chooses the output: text/html (default, a table), application/json or text/csv. Every response names the model version in the X-Model-Version header.")
            .Accepts<IFormFile>("multipart/form-data", "text/csv", "application/csv", "text/plain")
            .Produces<PredictionResponse>(StatusCodes.Status200OK, "application/json")
            .Produces<string>(StatusCodes.Status200OK, "text/html", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();

        group.MapPost("/json", PredictJson)
            .WithName("PredictJson")
            .WithSummary("Score website records sent as JSON")
            .WithDescription("Send {\"records\": [{\"having_IP_Address\": -1, \"URL_Length\": 1, ...}]}: each record maps all 30 feature names (or their aliases) to -1, 0 or 1 (null or \"na\" = missing, imputed). Returns one verdict per record, in order.")
            .Accepts<JsonPredictionRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> PredictCsvAsync(
        HttpContext context, LiveModel live, PhishingPredictor predictor, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var contentType = context.Request.ContentType;
        if (!UploadReader.IsMultipart(contentType) && !UploadReader.IsCsv(contentType))
        {
            return Problems.UnsupportedMediaType(contentType);
        }

        var bundle = live.Current;
        if (bundle is null)
        {
            return Problems.NoModel(context, limits.RetryAfterSeconds);
        }

        // The upload is kept as bytes and read twice (score, then answer): never as one object per cell.
        MemoryStream content;
        string name;
        try
        {
            (content, name) = await UploadReader.ReadAsync(context.Request, limits.MaxUploadBytes, cancellationToken);
        }
        catch (UploadReader.TooLargeException ex)
        {
            return Problems.TooLarge(ex.Message);
        }
        catch (UploadReader.MissingFileException ex)
        {
            return TypedResults.Problem(title: "No file", detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.Problem(title: "Malformed upload", detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }

        var bytes = content.GetBuffer();
        var length = (int)content.Length;
        TextReader Open() => new StreamReader(new MemoryStream(bytes, 0, length, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        PredictionSummary summary;
        try
        {
            summary = predictor.Score(bundle, Open, name, limits.MaxRows);
        }
        catch (TooManyRecordsException ex)
        {
            return Problems.TooLarge(ex.Message);
        }
        catch (PipelineException ex)
        {
            return Problems.BadInput(ex);
        }

        context.Response.Headers[ModelVersionHeader] = summary.ModelVersion;
        context.Items[ModelVersionHeader] = summary.ModelVersion;
        var records = predictor.Records(summary, Open);
        return Negotiate(context.Request.Headers.Accept.ToString()) switch
        {
            OutputFormat.Json => TypedResults.Stream(stream => PredictionJson.WriteAsync(stream, summary, records, cancellationToken), "application/json; charset=utf-8"),
            OutputFormat.Csv => TypedResults.Stream(stream => WriteTextAsync(stream, writer => PredictionCsvWriter.WriteAsync(writer, summary, records, cancellationToken)), "text/csv; charset=utf-8"),
            _ => TypedResults.Stream(stream => WriteTextAsync(stream, writer => PredictionHtml.WriteAsync(writer, summary, records, cancellationToken)), "text/html; charset=utf-8"),
        };
    }

    private static async Task WriteTextAsync(Stream stream, Func<TextWriter, Task> write)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        await write(writer);
        await writer.FlushAsync();
    }

    public static Results<Ok<JsonPredictionResponse>, ProblemHttpResult> PredictJson(
        JsonPredictionRequest request, HttpContext context, LiveModel live, PhishingPredictor predictor, JsonRecordParser parser, IOptions<ApiOptions> options)
    {
        var bundle = live.Current;
        if (bundle is null)
        {
            return Problems.NoModel(context, options.Value.RetryAfterSeconds);
        }

        if (request.Records is not { Count: > 0 })
        {
            return TypedResults.Problem(title: "No records", detail: "Send {\"records\": [ {feature: value, ...}, ... ]} with at least one record.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (request.Records.Count > options.Value.MaxRows)
        {
            return Problems.TooLarge($"The request has more than {options.Value.MaxRows:N0} records.");
        }

        var schema = predictor.Schema;
        var problems = new List<DataProblem>();
        var verdicts = new JsonVerdict[request.Records.Count];
        Span<double> features = stackalloc double[schema.Features.Count];
        for (var i = 0; i < verdicts.Length; i++)
        {
            var before = problems.Count;
            parser.Parse(request.Records[i], i, features, problems);
            if (problems.Count > before)
            {
                continue;
            }

            var phishing = predictor.PhishingProbability(bundle, features);
            verdicts[i] = DecisionRule.IsPhishing(phishing)
                ? new JsonVerdict(schema.Target.NegativeValue, phishing, "phishing")
                : new JsonVerdict(schema.Target.PositiveValue, phishing, "legitimate");
        }

        if (problems.Count > 0)
        {
            var shown = problems.Take(PhishingPredictor.MaxProblems).ToArray();
            return Problems.BadInput(new PipelineException($"{problems.Count} problem(s); first: {shown[0]}", shown));
        }

        context.Response.Headers[ModelVersionHeader] = bundle.Version;
        context.Items[ModelVersionHeader] = bundle.Version;
        return TypedResults.Ok(new JsonPredictionResponse(bundle.Version, verdicts));
    }

    private enum OutputFormat
    {
        Html,
        Json,
        Csv,
    }

    private static OutputFormat Negotiate(string accept)
    {
        // First listed type we can produce wins; browsers send text/html first, curl sends */* (→ HTML, as the seed did).
        foreach (var part in accept.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var type = part.Split(';')[0].Trim();
            if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                return OutputFormat.Json;
            }

            if (type.Equals("text/csv", StringComparison.OrdinalIgnoreCase))
            {
                return OutputFormat.Csv;
            }

            if (type.Equals("text/html", StringComparison.OrdinalIgnoreCase))
            {
                return OutputFormat.Html;
            }
        }

        return OutputFormat.Html;
    }
}
