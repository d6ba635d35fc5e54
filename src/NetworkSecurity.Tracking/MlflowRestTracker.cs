using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking;

/// <summary>
/// Records runs on an MLflow tracking server (DagsHub included) through its REST API, as MLflow's client does: the
/// experiment by name (created if missing; a deleted one is reported, never replaced), the run, params/metrics/tags in
/// batches within MLflow's limits, artifacts through the server's mlflow-artifacts endpoint, then the final status.
/// Each request has its own timeout; timeouts, connection failures and 408/429/5xx answers are retried with exponential
/// backoff and jitter, all within <see cref="MlflowOptions.MaxTrackingTime"/>. Failures are reported in the result with
/// the real figures, never thrown; credentials are never part of a message.
/// </summary>
public sealed class MlflowRestTracker : IExperimentTracker
{
    private readonly MlflowOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly Uri _base;

    public MlflowRestTracker(MlflowOptions options, HttpClient http, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _http = http;
        _logger = logger;
        var uri = new Uri(options.TrackingUri!.TrimEnd('/') + "/");
        _base = new UriBuilder(uri) { UserName = "", Password = "" }.Uri; // credentials never travel in the URL
        // http://user:password@host: sent as Basic auth, as MLflow's Python client does, unless MLFLOW_TRACKING_USERNAME is set.
        if (uri.UserInfo.Length > 0 && string.IsNullOrEmpty(options.Username))
        {
            var parts = uri.UserInfo.Split(':', 2);
            (_uriUser, _uriPassword) = (Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
        }
    }

    private readonly string? _uriUser;
    private readonly string? _uriPassword;

    public string Description => $"MLflow server {Server}";

    private string Server => _base.GetLeftPart(UriPartial.Path).TrimEnd('/');

    public async Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (MlflowRules.ExperimentNameProblem(run.ExperimentName) is { } nameProblem)
        {
            return new TrackingResult(false, null, $"run not tracked on {Description}: {nameProblem}");
        }

        var mlflowRun = MlflowRun.From(run);
        // A run stopped by a shutdown is tracked while the host waits (30 s for every service in all): a budget that fits,
        // and its status is set right after the run is made, so a slow server leaves it KILLED without its metrics
        // rather than RUNNING for ever.
        var stopped = mlflowRun.Killed;
        var time = stopped && _options.StoppedTrackingTime < _options.MaxTrackingTime ? _options.StoppedTrackingTime : _options.MaxTrackingTime;
        var calls = new Calls(time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(time);
        calls.Token = budget.Token;
        string? runId = null;
        var ended = false;
        try
        {
            var (experimentId, deleted) = await ExperimentAsync(mlflowRun.ExperimentName, calls).ConfigureAwait(false);
            if (deleted)
            {
                return new TrackingResult(false, null, DeletedMessage(mlflowRun.ExperimentName, experimentId));
            }

            var created = await PostAsync("runs/create", new JsonObject
            {
                ["experiment_id"] = experimentId,
                ["user_id"] = mlflowRun.User,
                ["run_name"] = mlflowRun.RunName,
                ["start_time"] = mlflowRun.StartTime,
                ["tags"] = KeyValues(mlflowRun.Tags.Take(MlflowRules.MaxParamsOrTagsPerBatch)),
            }, calls).ConfigureAwait(false);
            runId = Field(created, "POST api/2.0/mlflow/runs/create", "run", "info", "run_id");
            var artifactUri = created["run"]!["info"]!["artifact_uri"] is JsonValue uri && uri.TryGetValue<string>(out var text) ? text : "";
            if (stopped)
            {
                // MLflow takes metrics, params and artifacts for an ended run too (only a deleted one refuses them).
                await UpdateStatusAsync(runId, mlflowRun, calls).ConfigureAwait(false);
                ended = true;
            }

            await LogBatchesAsync(runId, mlflowRun, mlflowRun.Tags.Skip(MlflowRules.MaxParamsOrTagsPerBatch).ToList(), calls).ConfigureAwait(false);
            var artifactNote = await UploadArtifactsAsync(artifactUri, mlflowRun.Artifacts, calls).ConfigureAwait(false);
            if (!ended)
            {
                await UpdateStatusAsync(runId, mlflowRun, calls).ConfigureAwait(false);
            }

            return new TrackingResult(true, runId, $"run {runId} in experiment '{mlflowRun.ExperimentName}' (id {experimentId}) on {Description}{artifactNote}{mlflowRun.SkippedNote}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TrackingResult(false, runId,
                $"run not tracked: gave up after {calls.Elapsed.TotalSeconds:0.0} s, when the tracking budget of {Seconds(time)}{(stopped ? " for a stopped run" : "")} ran out on {Description}: {calls.Summary(_options.RequestTimeout)}{(calls.LastFailure is null ? "" : $"; last failure: {calls.LastFailure}")}{await EndUnfinishedAsync(runId, mlflowRun, ended, cancellationToken).ConfigureAwait(false)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or MlflowException or JsonException or NullReferenceException or InvalidOperationException)
        {
            return new TrackingResult(false, runId, $"run not tracked on {Description}: {ex.Message}{await EndUnfinishedAsync(runId, mlflowRun, ended, cancellationToken).ConfigureAwait(false)}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && runId is not null)
        {
            // Stopped (the service shutting down) after the run was created: it showed RUNNING on the server for ever.
            // Ended as KILLED, as MLflow's client ends an interrupted run, within a few seconds of its own; the stop goes on.
            var note = ended ? $"; run {runId} was ended as {mlflowRun.Status} on the server" : await EndAsync(runId, mlflowRun, "KILLED", KilledBudget, CancellationToken.None).ConfigureAwait(false);
            _logger.LogWarning("Tracking on {Server} stopped before the run was complete{Ended}", Description, note);
            throw;
        }
    }

    private Task<JsonNode> UpdateStatusAsync(string runId, MlflowRun run, Calls calls) => PostAsync("runs/update", new JsonObject
    {
        ["run_id"] = runId,
        ["status"] = run.Status,
        ["end_time"] = run.EndTime,
    }, calls);

    /// <summary>
    /// A run created on the server and then cut short would show RUNNING for ever: end it as FAILED, as MLflow's own
    /// client does (KILLED for a stopped run, with the shorter budget a waiting shutdown allows), with a short budget of
    /// its own (the run's budget may be spent). Best effort: says what happened.
    /// </summary>
    private async Task<string> EndUnfinishedAsync(string? runId, MlflowRun run, bool ended, CancellationToken cancellationToken) =>
        runId is null || cancellationToken.IsCancellationRequested ? ""
        : ended ? $"; run {runId} was ended as {run.Status} on the server first"
        : run.Killed ? await EndAsync(runId, run, "KILLED", KilledBudget, cancellationToken).ConfigureAwait(false)
        : await EndAsync(runId, run, "FAILED", EndRunBudget, cancellationToken).ConfigureAwait(false);

    private async Task<string> EndAsync(string runId, MlflowRun run, string status, TimeSpan time, CancellationToken cancellationToken)
    {
        var calls = new Calls(time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(time);
        calls.Token = budget.Token;
        try
        {
            await PostAsync("runs/update", new JsonObject { ["run_id"] = runId, ["status"] = status, ["end_time"] = run.EndTime }, calls).ConfigureAwait(false);
            return $"; run {runId} was ended as {status} on the server";
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or MlflowException or JsonException or InvalidOperationException)
        {
            return $"; run {runId} could not be ended on the server either, so it shows RUNNING there";
        }
    }

    private static readonly TimeSpan EndRunBudget = TimeSpan.FromSeconds(10);

    // Short: a shutdown is waiting (the host gives its services 30 s in all).
    private static readonly TimeSpan KilledBudget = TimeSpan.FromSeconds(5);

    private string DeletedMessage(string name, string id) =>
        $"run not tracked: experiment '{name}' (id {id}) is deleted on {Description}, and MLflow neither logs to a deleted experiment "
        + "nor reuses its name. Restore it on the server "
        + $"(`MLFLOW_TRACKING_URI={Server} mlflow experiments restore --experiment-id {id}`, or POST experiments/restore), "
        + "or set MLFLOW_EXPERIMENT_NAME to another name.";

    private async Task<(string Id, bool Deleted)> ExperimentAsync(string name, Calls calls)
    {
        if (await FindExperimentAsync(name, calls).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        try
        {
            var created = await PostAsync("experiments/create", new JsonObject { ["name"] = name }, calls).ConfigureAwait(false);
            return (Field(created, "POST api/2.0/mlflow/experiments/create", "experiment_id"), false);
        }
        catch (MlflowException ex) when (ex.ErrorCode == "RESOURCE_ALREADY_EXISTS")
        {
            // Created by someone else meanwhile, or deleted (the server keeps a deleted experiment's name): read it again.
            return await FindExperimentAsync(name, calls).ConfigureAwait(false)
                ?? throw new MlflowException(ex.ErrorCode,
                    $"experiment '{name}' exists on the server but cannot be read by name; if it is deleted, restore it or set MLFLOW_EXPERIMENT_NAME to another name ({ex.Message})");
        }
    }

    /// <summary>The experiment's id and whether it is deleted (get-by-name also returns deleted experiments), or null.</summary>
    private async Task<(string Id, bool Deleted)?> FindExperimentAsync(string name, Calls calls)
    {
        try
        {
            var found = await SendAsync(HttpMethod.Get, $"api/2.0/mlflow/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}", null, calls).ConfigureAwait(false);
            var id = Field(found, "GET api/2.0/mlflow/experiments/get-by-name", "experiment", "experiment_id");
            return (id, found["experiment"]!["lifecycle_stage"] is JsonValue stage && stage.TryGetValue<string>(out var text) && text == "deleted");
        }
        catch (MlflowException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Sends metrics, params and the tags runs/create could not take in as few log-batch calls as MLflow's limits allow:
    /// per call at most 1,000 metrics, 100 params, 100 tags and 1,000 items in all, and a body under 1 MB (long values
    /// count as their JSON-encoded bytes).
    /// </summary>
    private async Task LogBatchesAsync(string runId, MlflowRun run, List<KeyValuePair<string, string>> extraTags, Calls calls)
    {
        var metrics = run.Metrics;
        var parameters = run.Parameters;
        for (int m = 0, p = 0, t = 0; m < metrics.Count || p < parameters.Count || t < extraTags.Count;)
        {
            var (items, bytes) = (0, 0);
            bool Fits(int cost) => items < MlflowRules.MaxEntitiesPerBatch && bytes + cost <= MaxBatchBytes;

            var metricArray = new JsonArray();
            for (; m < metrics.Count && metricArray.Count < MlflowRules.MaxMetricsPerBatch && Fits(Cost(metrics[m].Key, "0.12345678901234567")); m++, items++)
            {
                bytes += Cost(metrics[m].Key, "0.12345678901234567");
                metricArray.Add(new JsonObject { ["key"] = metrics[m].Key, ["value"] = metrics[m].Value, ["timestamp"] = run.MetricTimestamp, ["step"] = 0 });
            }

            var paramBatch = new List<KeyValuePair<string, string>>();
            for (; p < parameters.Count && paramBatch.Count < MlflowRules.MaxParamsOrTagsPerBatch && Fits(Cost(parameters[p].Key, parameters[p].Value)); p++, items++)
            {
                bytes += Cost(parameters[p].Key, parameters[p].Value);
                paramBatch.Add(parameters[p]);
            }

            var tagBatch = new List<KeyValuePair<string, string>>();
            for (; t < extraTags.Count && tagBatch.Count < MlflowRules.MaxParamsOrTagsPerBatch && Fits(Cost(extraTags[t].Key, extraTags[t].Value)); t++, items++)
            {
                bytes += Cost(extraTags[t].Key, extraTags[t].Value);
                tagBatch.Add(extraTags[t]);
            }

            await PostAsync("runs/log-batch", new JsonObject
            {
                ["run_id"] = runId,
                ["metrics"] = metricArray,
                ["params"] = KeyValues(paramBatch),
                ["tags"] = KeyValues(tagBatch),
            }, calls).ConfigureAwait(false);
        }
    }

    // MLflow refuses a log-batch body of 1 MB or more; the rest of the body (run id, brackets) fits in what is left.
    private const int MaxBatchBytes = 1_000_000 - 4_096;

    // One item's share of the body: its key and value as JSON-encoded UTF-8, plus the object's punctuation and names.
    private static int Cost(string key, string value) =>
        JsonEncodedText.Encode(key).EncodedUtf8Bytes.Length + JsonEncodedText.Encode(value).EncodedUtf8Bytes.Length + 64;

    private async Task<string> UploadArtifactsAsync(string artifactUri, IReadOnlyList<TrackedArtifact> artifacts, Calls calls)
    {
        if (artifacts.Count == 0)
        {
            return "";
        }

        if (!artifactUri.StartsWith("mlflow-artifacts:", StringComparison.Ordinal))
        {
            return $"; artifacts not uploaded: the server stores them at '{artifactUri}', which needs that store's credentials (serve artifacts with --serve-artifacts)";
        }

        // mlflow-artifacts:/path → PUT {tracking}/api/2.0/mlflow-artifacts/artifacts/path/...; a host in the URI
        // (mlflow-artifacts://host:port/path) replaces the tracking host, as in MLflow's client.
        var artifactsUri = new Uri(artifactUri);
        var path = artifactsUri.AbsolutePath.Trim('/');
        var artifactBase = artifactsUri.Host.Length == 0 ? null
            : new UriBuilder(_base) { Host = artifactsUri.Host, Port = artifactsUri.IsDefaultPort ? (_base.Scheme == "https" ? 443 : 80) : artifactsUri.Port }.Uri;
        var files = 0;
        try
        {
            foreach (var artifact in artifacts)
            {
                var name = Path.GetFileName(artifact.LocalPath.TrimEnd(Path.DirectorySeparatorChar));
                var sources = File.Exists(artifact.LocalPath)
                    ? [(artifact.LocalPath, name)]
                    : Directory.EnumerateFiles(artifact.LocalPath, "*", SearchOption.AllDirectories).Select(f => (f, name + "/" + Path.GetRelativePath(artifact.LocalPath, f).Replace(Path.DirectorySeparatorChar, '/')));
                foreach (var (file, relative) in sources)
                {
                    var target = $"api/2.0/mlflow-artifacts/artifacts/{path}/{artifact.ArtifactPath.Trim('/')}/{relative}";
                    var bytes = await File.ReadAllBytesAsync(file, calls.Token).ConfigureAwait(false);
                    await SendAsync(HttpMethod.Put, string.Join('/', target.Split('/').Select(Uri.EscapeDataString)), bytes, calls, server: artifactBase).ConfigureAwait(false);
                    files++;
                }
            }
        }
        catch (MlflowException ex)
        {
            _logger.LogWarning("Artifacts not uploaded to {Server}: {Error}", Description, ex.Message);
            return $"; artifacts not uploaded after {files} file(s): {ex.Message}";
        }

        return $"; {files} artifact file(s) uploaded";
    }

    private Task<JsonNode> PostAsync(string method, JsonObject body, Calls calls) =>
        SendAsync(HttpMethod.Post, "api/2.0/mlflow/" + method, Encoding.UTF8.GetBytes(body.ToJsonString()), calls, json: true);

    /// <summary>
    /// One call, retried like MLflow's client retries: after a timeout of this request, a connection failure or a
    /// 408/429/5xx answer, wait (exponential backoff with jitter, or the answer's Retry-After when longer) and try again,
    /// unless the retries are used up or the wait would not fit in what is left of the tracking budget.
    /// </summary>
    private async Task<JsonNode> SendAsync(HttpMethod method, string relative, byte[]? body, Calls calls, bool json = false, Uri? server = null)
    {
        var what = $"{method} {relative.Split('?')[0]}";
        for (var attempt = 0; ; attempt++)
        {
            MlflowException failure;
            TimeSpan? retryAfter = null;
            using (var request = NewRequest(method, relative, body, json, server))
            using (var perRequest = CancellationTokenSource.CreateLinkedTokenSource(calls.Token))
            {
                perRequest.CancelAfter(_options.RequestTimeout);
                calls.Requests++;
                try
                {
                    using var response = await _http.SendAsync(request, perRequest.Token).ConfigureAwait(false);
                    var text = await response.Content.ReadAsStringAsync(perRequest.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        return Parse(what, response, text);
                    }

                    failure = ErrorAnswer(what, response, text);
                    retryAfter = RetryAfter(response);
                    if (!(response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500))
                    {
                        throw failure;
                    }
                }
                catch (OperationCanceledException) when (!calls.Token.IsCancellationRequested)
                {
                    calls.Timeouts++;
                    failure = new MlflowException(null, $"{what} got no answer within {Seconds(_options.RequestTimeout)}");
                }
                catch (HttpRequestException ex)
                {
                    // The inner exception says what happened ("The response ended prematurely" for a server that closes
                    // the connection); the outer one only "An error occurred while sending the request".
                    var detail = ex.InnerException is { } inner && !ex.Message.Contains(inner.Message, StringComparison.Ordinal) ? $" ({inner.Message})" : "";
                    failure = new MlflowException(null, $"{what} failed: {ex.Message}{detail}");
                }
            }

            calls.LastFailure = failure.Message;
            // A rate limit's Retry-After is waited for, as MLflow's client (urllib3) waits: retried sooner, a 429 was
            // answered again at once and the retries were spent within 2 s of a server asking for 5.
            var backoff = Backoff(attempt);
            var delay = retryAfter > backoff ? retryAfter.Value : backoff;
            if (attempt >= _options.MaxRetries || calls.Elapsed + delay >= calls.Budget)
            {
                var asked = retryAfter > backoff ? $" (the server asked to wait {Seconds(delay)})" : "";
                var why = attempt >= _options.MaxRetries ? $"after {attempt + 1} attempt(s)" : $"after {attempt + 1} attempt(s), with no time left for another{asked} in the tracking budget of {Seconds(calls.Budget)}";
                throw new MlflowException(failure.ErrorCode, $"{failure.Message} (gave up {why}, {calls.Elapsed.TotalSeconds:0.0} s in all; {calls.Summary(_options.RequestTimeout)})", failure.Status);
            }

            _logger.LogDebug("MLflow {Call} failed ({Failure}); retry {Retry} of {MaxRetries} in {Delay} ms", what, failure.Message, attempt + 1, _options.MaxRetries, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, calls.Token).ConfigureAwait(false);
        }
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string relative, byte[]? body, bool json, Uri? server)
    {
        var request = new HttpRequestMessage(method, new Uri(server ?? _base, relative));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(json ? "application/json" : "application/octet-stream");
        }

        if ((_options.Username is { Length: > 0 } ? _options.Username : _uriUser) is { Length: > 0 } user
            && (_options.Password ?? _uriPassword) is { } password)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
        else if (_options.Token is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>The wait a 429 or 503 asks for (Retry-After: seconds or a date), or null.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    // base × 2^attempt, plus up to as much again of jitter (MLflow: backoff factor 2, jitter 1 s).
    private TimeSpan Backoff(int attempt)
    {
        var delay = _options.RetryBaseDelay * Math.Pow(2, Math.Min(attempt, 16));
        return delay + (delay * Random.Shared.NextDouble());
    }

    // MLflow answers {"error_code", "message"}; proxies and some 503s answer plain text, and gateways other shapes
    // ({"error_code": 503}): whatever is there is read as text, never thrown over ("The node must be of type 'JsonValue'").
    private static MlflowException ErrorAnswer(string what, HttpResponseMessage response, string text)
    {
        string? code = null;
        var message = Snippet(text, 300);
        try
        {
            if (JsonNode.Parse(text) is JsonObject error)
            {
                code = AsText(error["error_code"]);
                message = AsText(error["message"]) ?? message;
            }
        }
        catch (JsonException)
        {
        }

        return new MlflowException(code, $"{what} answered {(int)response.StatusCode} {code ?? response.ReasonPhrase}: {message}", response.StatusCode);
    }

    private static string? AsText(JsonNode? node) =>
        node is null ? null : node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node.ToJsonString();

    /// <summary>
    /// A success answer as JSON, or an error naming the call and what came back: a proxy's or web app's HTML page
    /// answered 200 at a wrong tracking URI, and the message was only the parser's "'&lt;' is an invalid start of a value".
    /// </summary>
    private JsonNode Parse(string what, HttpResponseMessage response, string text)
    {
        try
        {
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }
        catch (JsonException)
        {
            throw new MlflowException(null,
                $"{what} answered {(int)response.StatusCode} with {response.Content.Headers.ContentType?.MediaType ?? "a body"} that is not JSON: '{Snippet(text, 100)}'; "
                + $"is MLFLOW_TRACKING_URI ({Server}) the MLflow server's address?", response.StatusCode);
        }
    }

    /// <summary>
    /// The string at <paramref name="path"/> in an answer, or an error naming the call, the field and the answer: one
    /// without it (another service's JSON, a gateway's {}) was reported as "Object reference not set to an instance of an object".
    /// </summary>
    private string Field(JsonNode answer, string what, params string[] path)
    {
        JsonNode? node = answer;
        foreach (var name in path)
        {
            node = node is JsonObject parent ? parent[name] : null;
        }

        return node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new MlflowException(null,
                $"{what} answered without {string.Join('.', path)} as a string, which MLflow always sends: '{Snippet(answer.ToJsonString(), 200)}'; "
                + $"is MLFLOW_TRACKING_URI ({Server}) an MLflow server?");
    }

    private static string Snippet(string text, int length) => text.Length > length ? text[..length] + "…" : text;

    private static JsonArray KeyValues(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var array = new JsonArray();
        foreach (var (key, value) in pairs)
        {
            array.Add(new JsonObject { ["key"] = key, ["value"] = value });
        }

        return array;
    }

    private static string Seconds(TimeSpan time) => $"{time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    /// <summary>The requests of one run's tracking: its budget and token, and what happened, for the message.</summary>
    private sealed class Calls(TimeSpan budget)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public TimeSpan Budget { get; } = budget;

        public CancellationToken Token { get; set; }

        public TimeSpan Elapsed => _clock.Elapsed;

        public int Requests { get; set; }

        public int Timeouts { get; set; }

        public string? LastFailure { get; set; }

        public string Summary(TimeSpan requestTimeout) =>
            $"{Requests} request(s) sent, {Timeouts} got no answer within the {Seconds(requestTimeout)} per-request timeout";
    }
}

/// <summary>An error answer from the MLflow server.</summary>
public sealed class MlflowException(string? errorCode, string message, HttpStatusCode status = 0) : Exception(message)
{
    public string? ErrorCode { get; } = errorCode;

    public HttpStatusCode Status { get; } = status;
}
