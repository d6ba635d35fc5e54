using System.Buffers;
using System.IO.Pipelines;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// POST /predict/json on the hot path: the body is read as UTF-8 bytes from the request pipe (bounded), parsed record by
/// record into a stack buffer, scored as it is read, and the answer is written with a reused UTF-8 writer. No object is
/// made per record or field, so a one-record request costs a few small allocations whatever the model.
/// </summary>
public static class JsonPredictionEndpoint
{
    public static async Task<Results<JsonVerdictsResult, ProblemHttpResult>> HandleAsync(
        HttpContext context, LiveModel live, PhishingPredictor predictor, JsonRecordReader reader, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (!context.Request.HasJsonContentType())
        {
            return TypedResults.Problem(title: "Unsupported content type", statusCode: StatusCodes.Status415UnsupportedMediaType,
                detail: $"Content type '{context.Request.ContentType ?? "(none)"}' is not supported: send application/json, {{\"records\": [{{feature: value, ...}}]}}.");
        }

        var bundle = live.Current;
        if (bundle is null)
        {
            return Problems.NoModel(context, limits.RetryAfterSeconds);
        }

        var body = context.Request.BodyReader;
        ReadResult read;
        while (true)
        {
            read = await body.ReadAsync(cancellationToken);
            if (read.Buffer.Length > limits.MaxUploadBytes)
            {
                body.AdvanceTo(read.Buffer.End);
                return Problems.TooLarge($"The JSON body is larger than {limits.MaxUploadBytes:N0} bytes.");
            }

            if (read.IsCompleted)
            {
                break;
            }

            body.AdvanceTo(read.Buffer.Start, read.Buffer.End); // keep everything until the body is complete
        }

        var problems = new List<DataProblem>();
        var scores = new Scores(bundle, predictor);
        try
        {
            reader.Read(read.Buffer, limits.MaxRows, problems, ref scores, static (ref Scores s, int index, ReadOnlySpan<double> features) => s.Add(index, features));
        }
        catch (TooManyRecordsException ex)
        {
            scores.Return();
            return Problems.TooLarge(ex.Message);
        }
        finally
        {
            body.AdvanceTo(read.Buffer.End);
        }

        if (problems.Count > 0 || scores.Count == 0)
        {
            scores.Return();
            if (problems.Count == 0)
            {
                return TypedResults.Problem(title: "No records", detail: "Send {\"records\": [ {feature: value, ...}, ... ]} with at least one record.", statusCode: StatusCodes.Status400BadRequest);
            }

            var shown = problems.Take(PhishingPredictor.MaxProblems).ToArray();
            return Problems.BadInput(new PipelineException($"{problems.Count} problem(s); first: {shown[0]}", shown));
        }

        context.Items[PredictionApi.ModelVersionHeader] = bundle.Version;
        return new JsonVerdictsResult(bundle.Version, predictor, scores);
    }

    /// <summary>The phishing probability of each record, in a pooled array.</summary>
    public struct Scores(ModelBundle bundle, PhishingPredictor predictor)
    {
        private double[] _probabilities = [];

        public int Count { get; private set; }

        public readonly ReadOnlySpan<double> Probabilities => _probabilities.AsSpan(0, Count);

        public void Add(int index, ReadOnlySpan<double> features)
        {
            if (index >= _probabilities.Length)
            {
                var larger = ArrayPool<double>.Shared.Rent(Math.Max(16, index * 2));
                _probabilities.AsSpan(0, Count).CopyTo(larger);
                Return();
                _probabilities = larger;
            }

            _probabilities[index] = predictor.PhishingProbability(bundle, features);
            Count = index + 1;
        }

        public void Return()
        {
            if (_probabilities.Length > 0)
            {
                ArrayPool<double>.Shared.Return(_probabilities);
            }
        }
    }
}

/// <summary>Writes <see cref="JsonPredictionResponse"/> with a reused UTF-8 writer and a Content-Length.</summary>
public sealed class JsonVerdictsResult : IResult, IEndpointMetadataProvider
{
    private static readonly JsonEncodedText ModelVersion = JsonEncodedText.Encode("model_version");
    private static readonly JsonEncodedText Predictions = JsonEncodedText.Encode("predictions");
    private static readonly JsonEncodedText PredictedColumn = JsonEncodedText.Encode(PhishingPredictor.PredictionColumn);
    private static readonly JsonEncodedText Probability = JsonEncodedText.Encode(PhishingPredictor.ProbabilityColumn);
    private static readonly JsonEncodedText Verdict = JsonEncodedText.Encode(PhishingPredictor.VerdictColumn);
    private static readonly JsonEncodedText Phishing = JsonEncodedText.Encode("phishing");
    private static readonly JsonEncodedText Legitimate = JsonEncodedText.Encode("legitimate");

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private readonly string _version;
    private readonly PhishingPredictor _predictor;
    private JsonPredictionEndpoint.Scores _scores;

    internal JsonVerdictsResult(string version, PhishingPredictor predictor, JsonPredictionEndpoint.Scores scores)
    {
        _version = version;
        _predictor = predictor;
        _scores = scores;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        try
        {
            Write(buffer);
        }
        finally
        {
            _scores.Return();
        }

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.Headers[PredictionApi.ModelVersionHeader] = _version;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null; // do not keep a large answer's buffer on the thread
        }

        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }

    private void Write(ArrayBufferWriter<byte> buffer)
    {
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        }
        else
        {
            writer.Reset(buffer);
        }

        var target = _predictor.Schema.Target;
        writer.WriteStartObject();
        writer.WriteString(ModelVersion, _version);
        writer.WriteStartArray(Predictions);
        foreach (var probability in _scores.Probabilities)
        {
            var phishing = PhishingPredictor.IsPhishing(probability);
            writer.WriteStartObject();
            writer.WriteNumber(PredictedColumn, phishing ? target.NegativeValue : target.PositiveValue);
            writer.WriteNumber(Probability, probability);
            writer.WriteString(Verdict, phishing ? Phishing : Legitimate);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(JsonPredictionResponse), ["application/json"]));
}
