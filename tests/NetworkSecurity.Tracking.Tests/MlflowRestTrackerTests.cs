using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking.Tests;

public sealed class MlflowRestTrackerTests
{
    private static MlflowRestTracker Tracker(MlflowStubServer server, string? user = "alice", string? password = "s3cret", string? token = null, int seconds = 20) =>
        new(new MlflowOptions
        {
            TrackingUri = server.Url + "/prefix-ignored/..", Username = user, Password = password, Token = token,
            MaxTrackingTime = TimeSpan.FromSeconds(seconds), RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        }, new HttpClient(), NullLogger.Instance);

    private static TrackedRun Run(TempDirectory dir, int parameters = 3) => new(
        "NetworkSecurity", "train-20261123_101500",
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_005_000), true,
        new Dictionary<string, string> { ["user"] = "bob" },
        Enumerable.Range(0, parameters).ToDictionary(i => $"p{i}", i => i == 0 ? new string('v', 7000) : "x"),
        new Dictionary<string, double> { ["test_f1"] = 0.975, ["cv_f1_std"] = double.NaN },
        [new TrackedArtifact(dir.File("metrics.json", "{\"f1\":0.975}"), "model_evaluation")]);

    [Fact]
    public async Task Creates_the_experiment_and_run_logs_in_batches_uploads_artifacts_and_finishes()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var tracker = new MlflowRestTracker(new MlflowOptions { TrackingUri = server.Url, Username = "alice", Password = "s3cret" }, new HttpClient(), NullLogger.Instance);
        var result = await tracker.TrackAsync(Run(dir), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        Assert.Equal("run1", result.RunId);
        Assert.Contains("1 artifact file(s) uploaded", result.Message);
        var requests = server.Requests.ToArray();
        Assert.Equal(
            ["GET /api/2.0/mlflow/experiments/get-by-name", "POST /api/2.0/mlflow/experiments/create", "POST /api/2.0/mlflow/runs/create",
             "POST /api/2.0/mlflow/runs/log-batch", "PUT /api/2.0/mlflow-artifacts/artifacts/1/run1/artifacts/model_evaluation/metrics.json",
             "POST /api/2.0/mlflow/runs/update"],
            requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal("?experiment_name=NetworkSecurity", requests[0].Query);
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret"));
        Assert.All(requests, r => Assert.Equal(basic, r.Authorization));
        Assert.All(requests.Where(r => r.Method == "POST"), r => Assert.StartsWith("application/json", r.ContentType));

        var create = requests[2].Json;
        Assert.Equal("2", create["experiment_id"]!.GetValue<string>());
        Assert.Equal("bob", create["user_id"]!.GetValue<string>());
        Assert.Equal(1_700_000_000_000, create["start_time"]!.GetValue<long>());
        Assert.Contains(create["tags"]!.AsArray(), t => t!["key"]!.GetValue<string>() == "mlflow.runName" && t["value"]!.GetValue<string>() == "train-20261123_101500");

        var batch = requests[3].Json;
        Assert.Equal(6000, batch["params"]!.AsArray().Single(p => p!["key"]!.GetValue<string>() == "p0")!["value"]!.GetValue<string>().Length);
        var metrics = batch["metrics"]!.AsArray();
        Assert.Equal(0.975, metrics.Single(m => m!["key"]!.GetValue<string>() == "test_f1")!["value"]!.GetValue<double>());
        Assert.DoesNotContain(metrics, m => m!["key"]!.GetValue<string>() == "cv_f1_std"); // NaN: never sent
        Assert.DoesNotContain("NaN", Encoding.UTF8.GetString(requests[3].Body), StringComparison.Ordinal);
        Assert.Contains("metric 'cv_f1_std' is NaN", result.Message);
        Assert.Equal("{\"f1\":0.975}", Encoding.UTF8.GetString(requests[4].Body));

        var update = requests[5].Json;
        Assert.Equal("FINISHED", update["status"]!.GetValue<string>());
        Assert.Equal(1_700_000_005_000, update["end_time"]!.GetValue<long>());
    }

    [Fact]
    public async Task Uses_an_existing_experiment_and_a_bearer_token()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.AddExperiment("NetworkSecurity", "42");
        var result = await Tracker(server, user: null, password: null, token: "tok").TrackAsync(Run(dir), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        var requests = server.Requests.ToArray();
        Assert.DoesNotContain(requests, r => r.Path.EndsWith("experiments/create", StringComparison.Ordinal));
        Assert.Equal("42", requests.Single(r => r.Path.EndsWith("runs/create", StringComparison.Ordinal)).Json["experiment_id"]!.GetValue<string>());
        Assert.All(requests, r => Assert.Equal("Bearer tok", r.Authorization));
    }

    [Fact]
    public async Task Credentials_in_the_tracking_uri_are_sent_as_basic_auth_and_an_artifact_host_in_the_uri_gets_the_uploads()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        await using var artifacts = await MlflowStubServer.StartAsync();
        var artifactHost = new Uri(artifacts.Url);
        server.ArtifactUri = $"mlflow-artifacts://{artifactHost.Host}:{artifactHost.Port}/7/run1/artifacts";
        var withCredentials = new UriBuilder(server.Url) { UserName = "bob", Password = "p%40ss" }.Uri.AbsoluteUri; // p@ss, escaped
        var result = await new MlflowRestTracker(new MlflowOptions { TrackingUri = withCredentials }, new HttpClient(), NullLogger.Instance).TrackAsync(Run(dir), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:p@ss"));
        Assert.All(server.Requests, r => Assert.Equal(basic, r.Authorization));
        Assert.DoesNotContain(server.Requests, r => r.Method == "PUT");
        var upload = Assert.Single(artifacts.Requests);
        Assert.Equal(("PUT", "/api/2.0/mlflow-artifacts/artifacts/7/run1/artifacts/model_evaluation/metrics.json"), (upload.Method, upload.Path));
        Assert.Equal(basic, upload.Authorization);
        Assert.DoesNotContain("p@ss", result.Message);
    }

    [Fact]
    public async Task A_race_on_create_is_resolved_by_reading_the_experiment_again()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var gets = 0;
        server.Fault = r =>
        {
            if (r.Path.EndsWith("get-by-name", StringComparison.Ordinal) && Interlocked.Increment(ref gets) == 1)
            {
                server.AddExperiment("NetworkSecurity", "7"); // someone else creates it right after our lookup
                return (404, "{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"no\"}", "application/json");
            }

            return null;
        };
        var result = await Tracker(server).TrackAsync(Run(dir), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.Equal("7", server.Requests.Single(r => r.Path.EndsWith("runs/create", StringComparison.Ordinal)).Json["experiment_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retries_a_500_then_succeeds()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var failures = 0;
        server.Fault = r => r.Path.EndsWith("runs/create", StringComparison.Ordinal) && Interlocked.Increment(ref failures) <= 2
            ? (500, "{\"error_code\":\"INTERNAL_ERROR\",\"message\":\"boom\"}", "application/json")
            : null;
        var result = await Tracker(server).TrackAsync(Run(dir), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.Equal(3, server.Requests.Count(r => r.Path.EndsWith("runs/create", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_plain_text_503_on_artifacts_is_reported_and_the_run_still_finishes()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.Fault = r => r.Method == "PUT" ? (503, "Service Unavailable: artifacts are not served", "text/plain") : null;
        var result = await Tracker(server).TrackAsync(Run(dir), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.Contains("artifacts not uploaded", result.Message);
        Assert.Contains("503", result.Message);
        Assert.Equal(5, server.Requests.Count(r => r.Method == "PUT")); // 1 try + 4 retries, bounded
        Assert.Single(server.Requests, r => r.Path.EndsWith("runs/update", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Batch_limits_split_params_into_several_calls()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var result = await Tracker(server).TrackAsync(Run(dir, parameters: 250), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        var batches = server.Requests.Where(r => r.Path.EndsWith("log-batch", StringComparison.Ordinal)).Select(r => r.Json["params"]!.AsArray().Count).ToArray();
        Assert.Equal([100, 100, 50], batches);
    }

    [Fact]
    public async Task Batches_keep_to_the_item_count_and_the_body_size_mlflow_accepts()
    {
        // 1,200 metrics and 150 long params of non-ASCII text (6 bytes a character in JSON): one call with 1,000 metrics
        // and 100 params held 1,100 items, and 100 such params are a 3.6 MB body; MLflow refuses both.
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var run = new TrackedRun(
            "NetworkSecurity", "train-20261123_101500",
            DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_005_000), true,
            new Dictionary<string, string> { ["user"] = "bob" },
            Enumerable.Range(0, 150).ToDictionary(i => $"p{i:000}", _ => new string('é', 6000)),
            Enumerable.Range(0, 1200).ToDictionary(i => $"m{i:0000}", i => i / 1000.0),
            []);
        var result = await Tracker(server).TrackAsync(run, CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        var batches = server.Requests.Where(r => r.Path.EndsWith("log-batch", StringComparison.Ordinal)).ToArray();
        Assert.All(batches, b =>
        {
            Assert.True(b.Body.Length < 1_000_000, $"{b.Body.Length} bytes");
            var (metrics, parameters, tags) = (b.Json["metrics"]!.AsArray().Count, b.Json["params"]!.AsArray().Count, b.Json["tags"]!.AsArray().Count);
            Assert.True(metrics <= 1000 && parameters <= 100 && tags <= 100 && metrics + parameters + tags <= 1000, $"{metrics} + {parameters} + {tags}");
        });
        Assert.Equal(Enumerable.Range(0, 1200).Select(i => $"m{i:0000}"), batches.SelectMany(b => b.Json["metrics"]!.AsArray()).Select(m => m!["key"]!.GetValue<string>()));
        var sent = batches.SelectMany(b => b.Json["params"]!.AsArray()).ToArray();
        Assert.Equal(Enumerable.Range(0, 150).Select(i => $"p{i:000}"), sent.Select(p => p!["key"]!.GetValue<string>()));
        Assert.All(sent, p => Assert.Equal(6000, p!["value"]!.GetValue<string>().Length));
    }

    [Fact]
    public async Task Errors_are_reported_with_mlflow_codes_and_without_credentials()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.Fault = _ => (403, "{\"error_code\":\"PERMISSION_DENIED\",\"message\":\"no access\"}", "application/json");
        var result = await Tracker(server, password: "hunter2").TrackAsync(Run(dir), CancellationToken.None);
        Assert.False(result.Tracked);
        Assert.Contains("PERMISSION_DENIED", result.Message);
        Assert.DoesNotContain("hunter2", result.Message);
    }

    [Fact]
    public async Task An_unreachable_server_gives_up_within_the_time_budget()
    {
        using var dir = new TempDirectory();
        var tracker = new MlflowRestTracker(new MlflowOptions { TrackingUri = "http://127.0.0.1:1", MaxTrackingTime = TimeSpan.FromSeconds(5), RetryBaseDelay = TimeSpan.FromMilliseconds(20) }, new HttpClient(), NullLogger.Instance);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await tracker.TrackAsync(Run(dir), CancellationToken.None);
        Assert.False(result.Tracked);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.Contains("5 attempt(s)", result.Message); // connection refused: 1 try + 4 retries, quickly
    }

    [Fact]
    public void The_factory_chooses_by_tracking_uri()
    {
        Assert.IsType<MlflowRestTracker>(MlflowTrackerFactory.Create(new MlflowOptions { TrackingUri = "https://dagshub.com/owner/repo.mlflow" }, NullLogger.Instance));
        Assert.IsType<MlflowFileStoreTracker>(MlflowTrackerFactory.Create(new MlflowOptions(), NullLogger.Instance));
        Assert.IsType<MlflowFileStoreTracker>(MlflowTrackerFactory.Create(new MlflowOptions { TrackingUri = "file:///tmp/mlruns" }, NullLogger.Instance));
    }
}
