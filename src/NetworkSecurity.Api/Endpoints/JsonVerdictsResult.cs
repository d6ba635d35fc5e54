using NetworkSecurity.Learning.Metrics;
using System.Buffers;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// The answer of POST /predict/json (<see cref="JsonPredictionResponse"/>), written on the hot path with a reused UTF-8
/// writer and buffer into one body with a Content-Length: no object per verdict, no serializer metadata walk.
/// Takes ownership of <paramref name="probabilities"/> (rented from the shared pool).
/// </summary>
public sealed class JsonVerdictsResult(string version, TargetColumn target, double[] probabilities, int count) : IResult, IEndpointMetadataProvider
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
            ArrayPool<double>.Shared.Return(probabilities);
        }

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null; // a large answer's buffer is not kept on the thread
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

        writer.WriteStartObject();
        writer.WriteString(ModelVersion, version);
        writer.WriteStartArray(Predictions);
        foreach (var probability in probabilities.AsSpan(0, count))
        {
            var phishing = DecisionRule.IsPhishing(probability);
            writer.WriteStartObject();
            writer.WriteNumber(PredictedColumn, phishing ? target.NegativeValue : target.PositiveValue);
            writer.WriteNumber(Probability, probability);
            writer.WriteString(Verdict, phishing ? Phishing : Legitimate);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        writer.Reset(); // drop the reference to the buffer until the next answer
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(JsonPredictionResponse), ["application/json"]));
}
