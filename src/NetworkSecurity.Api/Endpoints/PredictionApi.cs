using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>POST /predict (CSV in; HTML, JSON or CSV out) and POST /predict/json (JSON records in, verdicts out).</summary>
public static class PredictionApi
{
    public const string ModelVersionHeader = "X-Model-Version";

    /// <summary>Features with no value in any record of an upload: imputed in every one (comma-separated names).</summary>
    public const string EmptyFeaturesHeader = "X-Empty-Features";

    private const string EchoOption = "echo";

    public static RouteGroupBuilder MapPredictionApi(this IEndpointRouteBuilder routes)
    {
        // The documentation follows the served schema (it described the bundled 30 features to every other schema's clients).
        var schema = routes.ServiceProvider.GetRequiredService<DataSchema>();
        var features = schema.Features.Count;
        var group = routes.MapGroup("/predict").WithTags("Prediction");

        group.MapPost("", PredictCsvAsync)
            .WithName("PredictCsv")
            .WithSummary("Score a CSV of website records")
            .WithDescription("Upload a CSV as multipart/form-data (field 'file') or as a text/csv body. Columns are matched by name or alias in any order; extra columns are echoed but not used; empty cells and 'na' are imputed. The Accept header chooses the output: text/html (default, a table), application/json or text/csv; ?echo=false leaves the input columns out of a JSON or CSV answer. Every response names the model version in the X-Model-Version header. ?explain=N (1-" + features + ") or ?explain=all adds why: per record the base value, the top features by absolute contribution toward phishing (value, imputed or not) and the output scale (log_odds or probability); in HTML a 'why' column.")
            .Accepts<IFormFile>("multipart/form-data", "text/csv", "application/csv", "text/plain")
            .Produces<PredictionResponse>(StatusCodes.Status200OK, "application/json") // text/html and text/csv: PredictionOpenApi
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status408RequestTimeout) // a body that arrives too slowly (Kestrel's minimum data rate)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();

        // The services are singletons, taken once here: binding them per request would open a request service scope
        // (allocated, then disposed) on every one-record call for nothing.
        var services = routes.ServiceProvider;
        var live = services.GetRequiredService<LiveModel>();
        var predictor = services.GetRequiredService<PhishingPredictor>();
        var parser = services.GetRequiredService<JsonRecordParser>();
        var options = services.GetRequiredService<IOptions<ApiOptions>>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var uploads = services.GetRequiredService<UploadSlots>();
        group.MapPost("/json", (HttpContext context, CancellationToken cancellationToken) => PredictJsonAsync(context, live, predictor, parser, uploads, options, lifetime, cancellationToken))
            .WithName("PredictJson")
            .WithSummary("Score website records sent as JSON")
            .WithDescription(JsonDescription(schema))
            .Accepts<JsonPredictionRequest>("application/json")
            .Produces<JsonPredictionResponse>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status408RequestTimeout)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static string JsonDescription(DataSchema schema)
    {
        var features = schema.Features.Count;
        var example = string.Join(", ", schema.Features.Take(2).Select(f => $"\"{f.Name}\": {(f.AllowedValues.Count > 0 ? f.AllowedValues[0] : 0)}")) + (features > 2 ? ", ..." : "");
        return "Send {\"records\": [{" + example + "}]}: " + $"each record maps all {features} feature names (or their aliases) to {AllowedInWords(schema)} "
            + $"(null or \"na\" = missing, imputed). Returns one verdict per record, in order. ?explain=N (1-{features}) or ?explain=all adds an explanation per verdict.";
    }

    // "-1, 0 or 1" when every feature allows the same values (as the bundled schema's do).
    private static string AllowedInWords(DataSchema schema)
    {
        var first = schema.Features[0].AllowedValues;
        if (first.Count == 0 || schema.Features.Any(f => !f.AllowedValues.SequenceEqual(first)))
        {
            return "their allowed values";
        }

        return first.Count == 1 ? $"{first[0]}" : $"{string.Join(", ", first.Take(first.Count - 1))} or {first[^1]}";
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> PredictCsvAsync(
        HttpContext context, LiveModel live, PhishingPredictor predictor, UploadSlots uploads, IOptions<ApiOptions> options, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var bundle = CurrentModel(context, live);
        context.Response.Headers.Vary = "Accept"; // the answer's format follows the Accept header

        if (Problems.SeveralContentTypes(context.Request) is { } severalTypes)
        {
            return severalTypes;
        }

        var contentType = context.Request.ContentType;
        if (!UploadReader.IsMultipart(contentType) && !UploadReader.IsCsv(contentType))
        {
            return Problems.UnsupportedMediaType(contentType);
        }

        if (RequestEncoding.Check(context.Request) is { } encodingProblem)
        {
            return encodingProblem;
        }

        if (AcceptNegotiation.InvalidQuality(context.Request) is { } badRange)
        {
            return Problems.InvalidAcceptQuality(badRange);
        }

        if (!AcceptNegotiation.TryNegotiate(context.Request, out var format))
        {
            return Problems.NotAcceptable(context.Request.Headers.Accept.ToString(), "text/html, application/json or text/csv");
        }

        if (QueryOptions.CheckKnown(context.Request, ExplainQuery.Name, EchoOption) is { } queryProblem)
        {
            return queryProblem;
        }

        if (!TryReadEcho(context.Request, out var echo))
        {
            return TypedResults.Problem(title: "Invalid echo option", detail: "Give echo once: 'true' (the default: input columns in the answer) or 'false'.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (bundle is null)
        {
            return Problems.NoModel(context, limits.RetryAfterSeconds);
        }

        if (ExplainQuery.Read(context.Request, bundle, out var explainTop, out _) is { } explainProblem)
        {
            return explainProblem;
        }

        // The upload is kept as bytes and read twice (score, then answer): never as one object per cell.
        MemoryStream content;
        string name;
        // A shutdown stops the upload too: a slow client's body would otherwise hold the answer until the host's
        // shutdown timeout, and then the connection is cut without one.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        // Its bytes are held until the answer is written, however slowly the client reads: counted against the budget
        // of the large uploads in flight until the response ends.
        var held = Hold(context, uploads);
        try
        {
            (content, name) = await UploadReader.ReadAsync(context.Request, limits.MaxUploadBytes, reading.Token, held.TryGrow);
        }
        catch (UploadReader.InFlightBudgetException)
        {
            return Problems.UploadBytesInFlight(context, uploads, limits.RetryAfterSeconds);
        }
        catch (OperationCanceledException) when (IsShutdown(cancellationToken, lifetime.ApplicationStopping))
        {
            return Problems.ShuttingDown(context, limits.RetryAfterSeconds);
        }
        catch (UploadReader.TooLargeException ex)
        {
            return Problems.TooLarge(ex.Message);
        }
        catch (UploadReader.MissingFileException ex)
        {
            return TypedResults.Problem(title: "No file", detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (UploadReader.UnsupportedCharsetException ex)
        {
            return RequestEncoding.Unsupported(ex.Message);
        }
        catch (UploadReader.UnsupportedCodingException ex)
        {
            return RequestEncoding.Unsupported(ex.Message);
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.Problem(title: "Malformed upload", detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (Exception ex) when (Problems.IsClientAbort(ex, cancellationToken))
        {
            return Problems.ClientClosed();
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.FromBadRequest(ex);
        }

        var bytes = content.GetBuffer();
        var length = (int)content.Length;
        // UTF-8 only: a UTF-16 body was decoded by its byte order mark, and invalid UTF-8 (a Latin-1 file) scored with
        // U+FFFD in its cells. One vectorised pass over the bytes in memory; only a body that fails it is scanned again.
        if (RequestEncoding.ForeignByteOrderMark(new ReadOnlySequence<byte>(bytes, 0, length), name is "request body" or "uploaded file" ? $"The {name}" : $"The uploaded file '{name}'", csv: true) is { } foreign)
        {
            return foreign;
        }

        if (Utf8Text.FirstInvalid(bytes.AsSpan(0, length), name) is { } notUtf8)
        {
            return Problems.BadInput(PipelineException.At(notUtf8));
        }

        TextReader Open() => new StreamReader(new MemoryStream(bytes, 0, length, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        PredictionSummary summary;
        // A large upload is scored in one of Api:MaxConcurrentUploads slots: taken once its body is in (a slow sender holds
        // none) and given back before the answer is written (nor does a slow reader).
        var (slot, busy) = await TakeSlotAsync(context, uploads, UploadSlots.ScoringBytes(length, explainTop), limits, lifetime.ApplicationStopping, cancellationToken);
        if (busy is not null)
        {
            return busy;
        }

        // Explanations are counted with the upload as they are made, a chunk at a time: counted once all were made, an
        // upload whose explanations did not fit beside the others' was explained for a minute under load, then refused.
        var tally = explainTop > 0 ? new UploadSlots.ExplanationTally() : null;
        var keep = tally is null ? null : KeepExplanations(uploads, held, length, tally);
        using (slot)
        using (var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping))
        {
            using var deadline = ScoringDeadlines.CancelAfter(budget, TimeSpan.FromSeconds(limits.ScoringTimeoutSeconds));
            try
            {
                summary = predictor.Score(bundle, Open, name, limits.MaxRows, budget.Token, explainTop, limits.MaxExplainRows, keep);
            }
            catch (ExplanationsNotKeptException ex)
            {
                return ExplanationsNotKept(context, uploads, held, length + tally!.Bytes, ex.Explained, limits);
            }
            catch (Exception ex) when (ex is TooManyRecordsException or InputLimitException)
            {
                return Problems.TooLarge(ex.Message);
            }
            catch (PipelineException ex)
            {
                return Problems.BadInput(ex);
            }
            catch (OperationCanceledException)
            {
                return Stopped(context, cancellationToken, lifetime.ApplicationStopping, limits);
            }
        }

        // The explanations are held with the upload until the answer is written: counted with its bytes (the work is
        // done, but a slow reader would hold them for hours).
        if (summary.Explanations is { Length: > 0 } && Problems.HoldExplained(context, uploads, held, length + tally!.Bytes, limits.RetryAfterSeconds) is { } tooMuch)
        {
            return tooMuch;
        }

        if (summary.EmptyFeatures.Count > 0)
        {
            context.Response.Headers[EmptyFeaturesHeader] = HeaderText.Encode(string.Join(", ", summary.EmptyFeatures));
        }

        var records = predictor.Records(summary, Open);
        return format switch
        {
            PredictionFormat.Json => TypedResults.Stream(stream => UntilAbortedAsync(() => PredictionJson.WriteAsync(stream, summary, records, cancellationToken, echo), cancellationToken), "application/json; charset=utf-8"),
            PredictionFormat.Csv => TypedResults.Stream(stream => WriteTextAsync(stream, writer => PredictionCsvWriter.WriteAsync(writer, summary, records, cancellationToken, echo), cancellationToken), "text/csv; charset=utf-8"),
            _ => TypedResults.Stream(stream => WriteTextAsync(stream, writer => PredictionHtml.WriteAsync(writer, summary, records, cancellationToken), cancellationToken), "text/html; charset=utf-8"),
        };
    }

    private static Task WriteTextAsync(Stream stream, Func<TextWriter, Task> write, CancellationToken cancellationToken) =>
        UntilAbortedAsync(
            async () =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                await write(writer);
                await writer.FlushAsync(cancellationToken);
            },
            cancellationToken);

    /// <summary>Writes the answer; a client that disconnects meanwhile ends the writing quietly (the request log notes the request once).</summary>
    private static async Task UntilAbortedAsync(Func<Task> write, CancellationToken requestAborted)
    {
        try
        {
            await write();
        }
        catch (Exception ex) when (Problems.IsClientAbort(ex, requestAborted))
        {
            // Nobody is listening any more; the work stops here.
        }
    }

    public static async Task<Results<JsonVerdictsResult, Ok<JsonPredictionResponse>, ProblemHttpResult>> PredictJsonAsync(
        HttpContext context, LiveModel live, PhishingPredictor predictor, JsonRecordParser parser, UploadSlots uploads, IOptions<ApiOptions> options, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var bundle = CurrentModel(context, live);

        if (Problems.SeveralContentTypes(context.Request) is { } severalTypes)
        {
            return severalTypes;
        }

        if (!context.Request.HasJsonContentType())
        {
            return Problems.UnsupportedJsonMediaType(context.Request.ContentType);
        }

        if (RequestEncoding.Check(context.Request) is { } encodingProblem)
        {
            return encodingProblem;
        }

        // Accept is read as POST /predict reads it: a q that is not a quality value is a 400, JSON refused a 406.
        if (AcceptNegotiation.InvalidQuality(context.Request) is { } badRange)
        {
            return Problems.InvalidAcceptQuality(badRange);
        }

        if (AcceptNegotiation.RulesOutJson(context.Request))
        {
            return Problems.NotAcceptable(context.Request.Headers.Accept.ToString(), "application/json");
        }

        if (QueryOptions.CheckKnown(context.Request, ExplainQuery.Name) is { } queryProblem)
        {
            return queryProblem;
        }

        if (bundle is null)
        {
            return Problems.NoModel(context, limits.RetryAfterSeconds);
        }

        if (ExplainQuery.Read(context.Request, bundle, out var explainTop, out var explainer) is { } explainProblem)
        {
            return explainProblem;
        }

        if (context.Request.ContentLength > limits.MaxJsonBytes)
        {
            return Problems.TooLarge($"The JSON body exceeds the limit of {limits.MaxJsonBytes:N0} bytes.");
        }

        // A body that arrives in one read (one-record requests) is parsed in place in the request pipe's buffer; a longer
        // one is copied out as it arrives (bounded by MaxJsonBytes). Holding it in the pipe instead (consumed before
        // examined) leaves Kestrel unable to reset the connection's pipe when the client leaves mid-body.
        // A large body is held until its answer is written: counted against the budget of the large uploads in flight
        // (refused before it is read when announced), made only for a body that is copied, as a one-record one is not.
        UploadSlots.Reservation? held = null;
        if (context.Request.ContentLength is { } announced && UploadSlots.IsLarge(announced) && !(held = Hold(context, uploads)).TryGrow(announced))
        {
            return Problems.UploadBytesInFlight(context, uploads, limits.RetryAfterSeconds);
        }

        var body = context.Request.BodyReader;
        System.IO.Pipelines.ReadResult read;
        MemoryStream? copy = null;
        // Waiting for the body ends at a shutdown too (see PredictCsvAsync); made only when a read has to wait, as
        // a one-record body is there at once.
        CancellationTokenSource? reading = null;
        CancellationToken Waiting() => (reading ??= CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping)).Token;
        try
        {
            if (!body.TryRead(out read))
            {
                read = await body.ReadAsync(Waiting());
            }

            while (true)
            {
                if ((copy?.Length ?? 0) + read.Buffer.Length > limits.MaxJsonBytes)
                {
                    body.AdvanceTo(read.Buffer.End);
                    return Problems.TooLarge($"The JSON body exceeds the limit of {limits.MaxJsonBytes:N0} bytes.");
                }

                var last = read.IsCompleted || read.IsCanceled;
                if (last && copy is null)
                {
                    break; // all of it in one read: parsed in place, advanced past once parsed
                }

                // Grown with the bytes that arrive (see UploadReader): 1 MB up front per slow sender ran a 512 MB heap out with 600.
                var expected = Math.Min(context.Request.ContentLength ?? limits.MaxJsonBytes, limits.MaxJsonBytes);
                copy ??= UploadReader.NewBuffer(expected);
                held ??= Hold(context, uploads);
                try
                {
                    UploadReader.EnsureRoom(copy, copy.Length + read.Buffer.Length, expected, held.TryGrow);
                }
                catch (UploadReader.InFlightBudgetException)
                {
                    body.AdvanceTo(read.Buffer.End);
                    return Problems.UploadBytesInFlight(context, uploads, limits.RetryAfterSeconds);
                }

                foreach (var segment in read.Buffer)
                {
                    copy.Write(segment.Span);
                }

                body.AdvanceTo(read.Buffer.End);
                if (last)
                {
                    break;
                }

                read = await body.ReadAsync(Waiting());
            }
        }
        catch (OperationCanceledException) when (IsShutdown(cancellationToken, lifetime.ApplicationStopping))
        {
            return Problems.ShuttingDown(context, limits.RetryAfterSeconds);
        }
        catch (Exception ex) when (Problems.IsClientAbort(ex, cancellationToken))
        {
            return Problems.ClientClosed();
        }
        catch (BadHttpRequestException ex)
        {
            return Problems.FromBadRequest(ex);
        }
        finally
        {
            reading?.Dispose();
        }

        var bodyBytes = copy?.Length ?? read.Buffer.Length;
        JsonRecords records;
        try
        {
            var json = copy is null ? read.Buffer : new ReadOnlySequence<byte>(copy.GetBuffer(), 0, (int)copy.Length);
            if (RequestEncoding.ForeignByteOrderMark(json, "The request body", csv: false) is { } foreign)
            {
                return foreign;
            }

            records = parser.Parse(json, limits.MaxJsonRecords);
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(title: "Malformed JSON", detail: $"The body is not valid JSON: {JsonRecordParser.Describe(ex)}", statusCode: StatusCodes.Status400BadRequest);
        }
        catch (InputLimitException ex)
        {
            return Problems.TooLarge(ex.Message);
        }
        catch (PipelineException ex)
        {
            return Problems.BadInput(ex);
        }
        finally
        {
            if (copy is null)
            {
                body.AdvanceTo(read.Buffer.End);
            }
        }

        if (records.Count == 0)
        {
            return TypedResults.Problem(title: "No records", detail: "Send {\"records\": [ {feature: value, ...}, ... ]} with at least one record.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (records.Count > limits.MaxRows)
        {
            return Problems.TooLarge($"The request has more than {limits.MaxRows:N0} records.");
        }

        // As for CSV uploads: each explanation is held until the answer is written. Only those were held to it, and
        // /predict/json?explain=all explained as many records as Api:MaxJsonRecords let through.
        if (explainer is not null && records.Count > limits.MaxExplainRows)
        {
            return Problems.TooLarge($"request: explanations are given for at most {limits.MaxExplainRows:N0} records per request; send fewer records, or leave out explain.");
        }

        if (records.ProblemCount > 0)
        {
            var shown = records.Problems;
            return Problems.BadInput(new PipelineException($"{records.ProblemCount} problem(s) in {records.BadRecordCount} record(s); first: {shown[0]}", shown));
        }

        if (records.EmptyFeatures() is { Count: > 0 } empty)
        {
            context.Response.Headers[EmptyFeaturesHeader] = HeaderText.Encode(string.Join(", ", empty.Select(f => predictor.Schema.Features[f].Name)));
        }

        // As for CSV uploads: a large body is scored and explained in one of the upload slots, given back before the answer is written.
        var (slot, busy) = await TakeSlotAsync(context, uploads, UploadSlots.ScoringBytes(bodyBytes, explainTop), limits, lifetime.ApplicationStopping, cancellationToken);
        if (busy is not null)
        {
            return busy;
        }

        using var scoringSlot = slot;

        // Rented for the verdicts; the fast answer takes it over (and returns it once written), every other way out returns it here.
        var probabilities = ArrayPool<double>.Shared.Rent(records.Count);
        var handedOver = false;
        try
        {
            var started = Stopwatch.GetTimestamp();
            var stopping = lifetime.ApplicationStopping;
            for (var i = 0; i < records.Count; i++)
            {
                if ((i & 1023) == 1023 && (cancellationToken.IsCancellationRequested || stopping.IsCancellationRequested || Stopwatch.GetElapsedTime(started).TotalSeconds > limits.ScoringTimeoutSeconds))
                {
                    return Stopped(context, cancellationToken, stopping, limits);
                }

                probabilities[i] = predictor.PhishingProbability(bundle, records.Features(i));
            }

            // A NaN probability failed the answer's writing with a 500; it is the record's values the model cannot score.
            if (PhishingPredictor.Unscorable(bundle, "request", probabilities.AsSpan(0, records.Count), i => $"record {i + 1}") is { } unscorable)
            {
                return Problems.BadInput(unscorable);
            }

            if (explainer is null)
            {
                handedOver = true;
                return new JsonVerdictsResult(bundle.Version, predictor.Schema.Target, probabilities, records.Count);
            }

            // With explanations: the verdicts as objects, each with why it was given; the records explained as a CSV
            // upload's are, PhishingPredictor.ChunkRows at a time (copies once per chunk, spread over the cores), each
            // chunk's counted with the body against the bytes in flight as it is made: counted once all were made, a
            // request whose explanations did not fit beside the others' was refused only after all the work.
            var target = predictor.Schema.Target;
            var verdicts = new JsonVerdict[records.Count];
            var explanations = new VerdictExplanation[records.Count];
            var tally = new UploadSlots.ExplanationTally();
            held ??= Hold(context, uploads);
            var keep = KeepExplanations(uploads, held, bodyBytes, tally);
            // The same budget as scoring, counted from its start: explanations cost far more than verdicts.
            var remaining = limits.ScoringTimeoutSeconds - Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (remaining <= 0)
            {
                return Problems.TooSlow(limits.ScoringTimeoutSeconds);
            }

            using (var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping))
            {
                using var deadline = ScoringDeadlines.CancelAfter(budget, TimeSpan.FromSeconds(remaining));
                try
                {
                    for (var start = 0; start < records.Count; start += PhishingPredictor.ChunkRows)
                    {
                        var raw = records.ToMatrix(start, Math.Min(PhishingPredictor.ChunkRows, records.Count - start));
                        var made = explainer.ExplainAll(raw, bundle.Complete(raw, budget.Token), explainTop, budget.Token);
                        made.CopyTo(explanations, start);
                        if (!keep(made))
                        {
                            return ExplanationsNotKept(context, uploads, held, bodyBytes + tally.Bytes, start + made.Length, limits);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    return Stopped(context, cancellationToken, stopping, limits);
                }
            }

            // Held with the body until the answer is written, as for CSV uploads.
            if (Problems.HoldExplained(context, uploads, held, bodyBytes + tally.Bytes, limits.RetryAfterSeconds) is { } tooMuch)
            {
                return tooMuch;
            }

            for (var i = 0; i < verdicts.Length; i++)
            {
                var phishing = probabilities[i];
                var why = explanations[i];
                verdicts[i] = DecisionRule.IsPhishing(phishing)
                    ? new JsonVerdict(target.NegativeValue, phishing, "phishing", why)
                    : new JsonVerdict(target.PositiveValue, phishing, "legitimate", why);
            }

            return TypedResults.Ok(new JsonPredictionResponse(bundle.Version, verdicts));
        }
        finally
        {
            if (!handedOver)
            {
                ArrayPool<double>.Shared.Return(probabilities);
            }
        }
    }

    /// <summary>
    /// The live model, taken once for the whole request and named on every answer, refusals included (header and
    /// request log); null when none is loaded.
    /// </summary>
    internal static ModelBundle? CurrentModel(HttpContext context, LiveModel live)
    {
        var bundle = live.Current;
        if (bundle is not null)
        {
            context.Response.Headers[ModelVersionHeader] = bundle.Version;
            context.Items[ModelVersionHeader] = bundle.Version;
        }

        return bundle;
    }

    /// <summary>
    /// Score's keep callback, for CSV uploads and JSON records alike: whether a chunk's explanations, just made, may be
    /// held with the body and those before (within the budget and beside the other uploads in flight).
    /// </summary>
    private static Func<IReadOnlyList<VerdictExplanation>, bool> KeepExplanations(UploadSlots uploads, UploadSlots.Reservation held, long bodyBytes, UploadSlots.ExplanationTally tally) =>
        made => bodyBytes + tally.Add(made) is var bytes && bytes <= uploads.ByteBudget && held.TryGrow(bytes);

    /// <summary>Why explaining stopped when a chunk's explanations could not be kept (413 when they could never fit, else 503), and after how many records.</summary>
    private static ProblemHttpResult ExplanationsNotKept(HttpContext context, UploadSlots uploads, UploadSlots.Reservation held, long bytes, int explained, ApiOptions limits)
    {
        var refused = Problems.HoldExplained(context, uploads, held, bytes, limits.RetryAfterSeconds)
            ?? Problems.UploadBytesInFlight(context, uploads, limits.RetryAfterSeconds); // room came free since: still, the work stopped
        refused.ProblemDetails.Detail += string.Create(System.Globalization.CultureInfo.InvariantCulture, $" Scoring stopped after explaining {explained:N0} records.");
        return refused;
    }

    /// <summary>This request's share of the bytes large uploads may hold at once, given back when its response ends.</summary>
    private static UploadSlots.Reservation Hold(HttpContext context, UploadSlots uploads)
    {
        var held = uploads.Reserve();
        context.Response.RegisterForDispose(held);
        return held;
    }

    /// <summary>
    /// One of the upload slots for a large body (none needed for a small one), or why none: every slot stayed taken for
    /// the scoring budget, or the client left, or the service is stopping meanwhile. A ValueTask: a small body, a
    /// one-record request, completes at once without allocating.
    /// </summary>
    private static async ValueTask<(IDisposable? Slot, ProblemHttpResult? Problem)> TakeSlotAsync(
        HttpContext context, UploadSlots uploads, long bodyBytes, ApiOptions limits, CancellationToken stopping, CancellationToken requestAborted)
    {
        if (!UploadSlots.IsLarge(bodyBytes))
        {
            return (null, null);
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, stopping);
        try
        {
            return await uploads.TryEnterAsync(TimeSpan.FromSeconds(limits.ScoringTimeoutSeconds), waiting.Token) is { } slot
                ? (slot, null)
                : (null, Problems.UploadsBusy(context, uploads.Limit, limits.ScoringTimeoutSeconds, limits.RetryAfterSeconds));
        }
        catch (OperationCanceledException)
        {
            return (null, Stopped(context, requestAborted, stopping, limits));
        }
    }

    /// <summary>The wait ended because the service is stopping, not because the client left.</summary>
    private static bool IsShutdown(CancellationToken requestAborted, CancellationToken stopping) =>
        stopping.IsCancellationRequested && !requestAborted.IsCancellationRequested;

    /// <summary>Why scoring stopped: the client left, the service is shutting down, or the time budget ran out.</summary>
    private static ProblemHttpResult Stopped(HttpContext context, CancellationToken requestAborted, CancellationToken stopping, ApiOptions limits) =>
        requestAborted.IsCancellationRequested ? Problems.ClientClosed()
        : stopping.IsCancellationRequested ? Problems.ShuttingDown(context, limits.RetryAfterSeconds)
        : Problems.TooSlow(limits.ScoringTimeoutSeconds);

    /// <summary>?echo: absent or once, true or false (any case); anything else is the caller's mistake, not a silent default.</summary>
    private static bool TryReadEcho(HttpRequest request, out bool echo)
    {
        echo = true;
        if (!request.Query.TryGetValue(EchoOption, out var values))
        {
            return true;
        }

        // Not past a NUL, which bool.TryParse drops ("false\0" is false).
        return values.Count == 1 && values[0]?.Contains('\0', StringComparison.Ordinal) == false && bool.TryParse(values[0], out echo);
    }
}
