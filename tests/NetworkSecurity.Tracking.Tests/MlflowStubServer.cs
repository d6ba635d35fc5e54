using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace NetworkSecurity.Tracking.Tests;

public sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, string? ContentType, byte[] Body)
{
    public JsonNode Json => JsonNode.Parse(Encoding.UTF8.GetString(Body))!;
}

/// <summary>
/// A stand-in MLflow tracking server on 127.0.0.1 (no MLflow server can be installed here) that records every request
/// and answers as MLflow 2.x does: JSON bodies, {"error_code", "message"} errors with MLflow's status codes.
/// <see cref="Fault"/> injects failures (a status and body) for chosen requests.
/// </summary>
public sealed class MlflowStubServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (string Id, bool Deleted)> _experiments = new();
    private int _nextExperiment = 1;

    public MlflowStubServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Return (status, body, contentType) to fail a request, or null to answer normally.</summary>
    public Func<RecordedRequest, (int Status, string Body, string ContentType)?> Fault { get; set; } = _ => null;

    /// <summary>Headers to add to a fault's answer (Retry-After).</summary>
    public Dictionary<string, string> FaultHeaders { get; } = [];

    /// <summary>Awaited before a request is answered (a slow server); gets the request's abort token.</summary>
    public Func<RecordedRequest, CancellationToken, Task> Hold { get; set; } = (_, _) => Task.CompletedTask;

    public string ArtifactUri { get; set; } = "mlflow-artifacts:/1/run1/artifacts";

    /// <summary>Answer as a server whose backend store is a file store (mlflow server --backend-store-uri ./mlruns) rather than SQL.</summary>
    public bool FileStoreBacked { get; set; }

    public string Url => _app.Urls.First();

    public static async Task<MlflowStubServer> StartAsync()
    {
        var server = new MlflowStubServer();
        await server._app.StartAsync();
        return server;
    }

    /// <summary>An experiment the server already holds; a deleted one keeps its name, as on a real server.</summary>
    public void AddExperiment(string name, string id, bool deleted = false) => _experiments[name] = (id, deleted);

    private async Task HandleAsync(HttpContext context)
    {
        using var memory = new MemoryStream();
        await context.Request.Body.CopyToAsync(memory);
        var request = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "",
            context.Request.Headers.Authorization.ToString(), context.Request.ContentType, memory.ToArray());
        Requests.Enqueue(request);
        await Hold(request, context.RequestAborted);

        if (Fault(request) is { } fault)
        {
            context.Response.StatusCode = fault.Status;
            context.Response.ContentType = fault.ContentType;
            foreach (var (name, value) in FaultHeaders)
            {
                context.Response.Headers[name] = value;
            }

            await context.Response.WriteAsync(fault.Body);
            return;
        }

        var (status, body) = Answer(request, context.Request.Query["experiment_name"].ToString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private (int, JsonNode) Answer(RecordedRequest request, string experimentName)
    {
        switch (request.Path)
        {
            case "/api/2.0/mlflow/experiments/get-by-name":
                // MLflow's get-by-name returns deleted experiments too, with lifecycle_stage "deleted".
                return _experiments.TryGetValue(experimentName, out var found)
                    ? (200, new JsonObject
                    {
                        ["experiment"] = new JsonObject
                        {
                            ["experiment_id"] = found.Id,
                            ["name"] = experimentName,
                            ["artifact_location"] = $"mlflow-artifacts:/{found.Id}",
                            ["lifecycle_stage"] = found.Deleted ? "deleted" : "active",
                            ["last_update_time"] = 1_700_000_000_000,
                            ["creation_time"] = 1_700_000_000_000,
                        },
                    })
                    : (404, Error("RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{experimentName}'"));
            case "/api/2.0/mlflow/experiments/create":
                var name = request.Json["name"]!.GetValue<string>();
                if (_experiments.TryGetValue(name, out var existing))
                {
                    // MLflow's words: a file-store-backed server names the deleted state; a SQL-backed one hits the unique name column.
                    return (400, Error("RESOURCE_ALREADY_EXISTS", FileStoreBacked && existing.Deleted
                        ? $"Experiment '{name}' already exists in deleted state. You can restore the experiment, or permanently delete the experiment from the .trash folder (under tracking server's root folder) in order to use this experiment name again."
                        : FileStoreBacked
                            ? $"Experiment '{name}' already exists."
                            : $"Experiment(name={name}) already exists. Error: (raised as a result of Query-invoked autoflush; consider using a session.no_autoflush block if this flush is occurring prematurely)\n(sqlite3.IntegrityError) UNIQUE constraint failed: experiments.name"));
                }

                var newId = Interlocked.Increment(ref _nextExperiment).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _experiments[name] = (newId, false);
                return (200, new JsonObject { ["experiment_id"] = newId });
            case "/api/2.0/mlflow/runs/create":
                return (200, new JsonObject
                {
                    ["run"] = new JsonObject
                    {
                        ["info"] = new JsonObject
                        {
                            ["run_id"] = "run1",
                            ["run_uuid"] = "run1",
                            ["experiment_id"] = request.Json["experiment_id"]!.GetValue<string>(),
                            ["status"] = "RUNNING",
                            ["artifact_uri"] = ArtifactUri,
                            ["lifecycle_stage"] = "active",
                        },
                        ["data"] = new JsonObject(),
                    },
                });
            case "/api/2.0/mlflow/runs/log-batch":
            case "/api/2.0/mlflow/runs/update":
                return (200, new JsonObject());
            default:
                return request.Path.StartsWith("/api/2.0/mlflow-artifacts/artifacts/", StringComparison.Ordinal) && request.Method == "PUT"
                    ? (200, new JsonObject())
                    : (404, Error("ENDPOINT_NOT_FOUND", request.Path));
        }
    }

    private static JsonObject Error(string code, string message) => new() { ["error_code"] = code, ["message"] = message };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
