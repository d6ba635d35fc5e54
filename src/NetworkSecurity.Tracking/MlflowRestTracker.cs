using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Pipeline.Tracking;
using Polly;
using Polly.Retry;

namespace NetworkSecurity.Tracking;

/// <summary>
/// Records runs on an MLflow tracking server (DagsHub included) through its REST API: experiment by name (created if
/// missing), run, params/metrics/tags in batches within MLflow's limits, artifacts through the server's
/// mlflow-artifacts endpoint, then the final status. Retries 408/429/5xx with exponential backoff, all within
/// <see cref="MlflowOptions.MaxTrackingTime"/>; failures are reported in the result, never thrown; credentials are
/// never part of a message.
/// </summary>
public sealed class MlflowRestTracker : IExperimentTracker
{
    private const int MaxMetricsPerBatch = 1000;
    private const int MaxParamsPerBatch = 100;
    private const int MaxTagsPerBatch = 100;
    private const int MaxParamLength = 6000;
    private const int MaxTagLength = 8000;

    private readonly MlflowOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly Uri _base;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public MlflowRestTracker(MlflowOptions options, HttpClient http, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _http = http;
        _logger = logger;
        var uri = new Uri(options.TrackingUri!.TrimEnd('/') + "/");
        _base = new UriBuilder(uri) { UserName = "", Password = "" }.Uri; // credentials never travel in the URL
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = 4,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(200),
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .HandleResult(r => r.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)r.StatusCode >= 500),
            })
            .Build();
    }

    public string Description => $"MLflow server {_base.GetLeftPart(UriPartial.Path).TrimEnd('/')}";

    public async Task<TrackingResult> TrackAsync(TrackedRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.MaxTrackingTime);
        string? runId = null;
        try
        {
            var experimentId = await ExperimentIdAsync(run.ExperimentName, budget.Token).ConfigureAwait(false);
            var user = run.User;
            var tags = run.MlflowTags();
            var created = await PostAsync("runs/create", new JsonObject
            {
                ["experiment_id"] = experimentId,
                ["user_id"] = user,
                ["run_name"] = run.RunName,
                ["start_time"] = run.StartTime.ToUnixTimeMilliseconds(),
                ["tags"] = KeyValues(tags.Take(MaxTagsPerBatch), MaxTagLength),
            }, budget.Token).ConfigureAwait(false);
            var info = created["run"]!["info"]!;
            runId = info["run_id"]!.GetValue<string>();
            var artifactUri = info["artifact_uri"]?.GetValue<string>() ?? "";

            await LogBatchesAsync(runId, run, tags.Skip(MaxTagsPerBatch).ToList(), budget.Token).ConfigureAwait(false);
            var artifactNote = await UploadArtifactsAsync(artifactUri, run.Artifacts, budget.Token).ConfigureAwait(false);
            await PostAsync("runs/update", new JsonObject
            {
                ["run_id"] = runId,
                ["status"] = run.Succeeded ? "FINISHED" : "FAILED",
                ["end_time"] = run.EndTime.ToUnixTimeMilliseconds(),
            }, budget.Token).ConfigureAwait(false);
            return new TrackingResult(true, runId, $"run {runId} in experiment '{run.ExperimentName}' on {Description}{artifactNote}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TrackingResult(false, runId, $"gave up after {_options.MaxTrackingTime.TotalSeconds:0} s: {Description} did not answer in time");
        }
        catch (Exception ex) when (ex is HttpRequestException or MlflowException or JsonException or NullReferenceException or InvalidOperationException)
        {
            return new TrackingResult(false, runId, $"could not track the run on {Description}: {ex.Message}");
        }
    }

    private async Task<string> ExperimentIdAsync(string name, CancellationToken cancellationToken)
    {
        if (await FindExperimentAsync(name, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        try
        {
            var created = await PostAsync("experiments/create", new JsonObject { ["name"] = name }, cancellationToken).ConfigureAwait(false);
            return created["experiment_id"]!.GetValue<string>();
        }
        catch (MlflowException ex) when (ex.ErrorCode == "RESOURCE_ALREADY_EXISTS")
        {
            // Created by someone else meanwhile.
            return await FindExperimentAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new MlflowException(ex.ErrorCode, $"experiment '{name}' exists but cannot be read");
        }
    }

    private async Task<string?> FindExperimentAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var found = await SendAsync(HttpMethod.Get, $"api/2.0/mlflow/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}", null, cancellationToken).ConfigureAwait(false);
            var experiment = found["experiment"]!;
            return experiment["lifecycle_stage"]?.GetValue<string>() == "deleted" ? null : experiment["experiment_id"]!.GetValue<string>();
        }
        catch (MlflowException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task LogBatchesAsync(string runId, TrackedRun run, List<KeyValuePair<string, string>> extraTags, CancellationToken cancellationToken)
    {
        var timestamp = run.EndTime.ToUnixTimeMilliseconds();
        var metrics = run.Metrics.ToList();
        var parameters = run.Parameters.ToList();
        for (int m = 0, p = 0, t = 0; m < metrics.Count || p < parameters.Count || t < extraTags.Count;)
        {
            var metricBatch = metrics.Skip(m).Take(MaxMetricsPerBatch).ToList();
            var paramBatch = parameters.Skip(p).Take(MaxParamsPerBatch).ToList();
            var tagBatch = extraTags.Skip(t).Take(Math.Min(MaxTagsPerBatch, 1000 - metricBatch.Count - paramBatch.Count)).ToList();
            m += metricBatch.Count;
            p += paramBatch.Count;
            t += tagBatch.Count;
            var metricArray = new JsonArray();
            foreach (var (key, value) in metricBatch)
            {
                metricArray.Add(new JsonObject
                {
                    ["key"] = key,
                    ["value"] = double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(MlflowFileStoreTracker.FormatMetric(value)),
                    ["timestamp"] = timestamp,
                    ["step"] = 0,
                });
            }

            await PostAsync("runs/log-batch", new JsonObject
            {
                ["run_id"] = runId,
                ["metrics"] = metricArray,
                ["params"] = KeyValues(paramBatch, MaxParamLength),
                ["tags"] = KeyValues(tagBatch, MaxTagLength),
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> UploadArtifactsAsync(string artifactUri, IReadOnlyList<TrackedArtifact> artifacts, CancellationToken cancellationToken)
    {
        if (artifacts.Count == 0)
        {
            return "";
        }

        if (!artifactUri.StartsWith("mlflow-artifacts:", StringComparison.Ordinal))
        {
            return $"; artifacts not uploaded: the server stores them at '{artifactUri}', which needs that store's credentials (serve artifacts with --serve-artifacts)";
        }

        // mlflow-artifacts:/path or mlflow-artifacts://host/path → PUT {tracking}/api/2.0/mlflow-artifacts/artifacts/path/...
        var path = new Uri(artifactUri).AbsolutePath.Trim('/');
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
                    var bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
                    await SendAsync(HttpMethod.Put, string.Join('/', target.Split('/').Select(Uri.EscapeDataString)), bytes, cancellationToken).ConfigureAwait(false);
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

    private Task<JsonNode> PostAsync(string method, JsonObject body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/2.0/mlflow/" + method, Encoding.UTF8.GetBytes(body.ToJsonString()), cancellationToken, json: true);

    private async Task<JsonNode> SendAsync(HttpMethod method, string relative, byte[]? body, CancellationToken cancellationToken, bool json = false)
    {
        using var response = await _retry.ExecuteAsync(async ct =>
        {
            var request = new HttpRequestMessage(method, new Uri(_base, relative));
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(json ? "application/json" : "application/octet-stream");
            }

            if (_options.Username is { Length: > 0 } user && _options.Password is { } password)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            }
            else if (_options.Token is { Length: > 0 } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            return await _http.SendAsync(request, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }

        // MLflow answers {"error_code", "message"}; proxies and some 503s answer plain text.
        string? code = null;
        var message = text.Length > 300 ? text[..300] : text;
        try
        {
            if (JsonNode.Parse(text) is JsonObject error)
            {
                code = error["error_code"]?.GetValue<string>();
                message = error["message"]?.GetValue<string>() ?? message;
            }
        }
        catch (JsonException)
        {
        }

        throw new MlflowException(code, $"{method} {relative.Split('?')[0]} answered {(int)response.StatusCode} {code ?? response.ReasonPhrase}: {message}", response.StatusCode);
    }

    private static JsonArray KeyValues(IEnumerable<KeyValuePair<string, string>> pairs, int maxLength)
    {
        var array = new JsonArray();
        foreach (var (key, value) in pairs)
        {
            array.Add(new JsonObject { ["key"] = key, ["value"] = value.Length <= maxLength ? value : value[..maxLength] });
        }

        return array;
    }
}

/// <summary>An error answer from the MLflow server.</summary>
public sealed class MlflowException(string? errorCode, string message, HttpStatusCode status = 0) : Exception(message)
{
    public string? ErrorCode { get; } = errorCode;

    public HttpStatusCode Status { get; } = status;
}
