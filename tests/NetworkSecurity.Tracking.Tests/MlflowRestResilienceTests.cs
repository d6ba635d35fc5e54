using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Tracking;
using Xunit.Abstractions;

namespace NetworkSecurity.Tracking.Tests;

/// <summary>The REST tracker where MLflow and the product meet a deleted experiment, a hung server and retries.</summary>
public sealed class MlflowRestResilienceTests(ITestOutputHelper output)
{
    private static TrackedRun Run(TempDirectory dir, string experiment = "NetworkSecurity") => new(
        experiment, "train-20261123_101500",
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_005_000), true,
        new Dictionary<string, string> { ["user"] = "bob" },
        new Dictionary<string, string> { ["learner"] = "gradient_boosting" },
        new Dictionary<string, double> { ["test_f1"] = 0.975 },
        [new TrackedArtifact(dir.File("metrics.json", "{}"), "model_evaluation")]);

    private static MlflowRestTracker Tracker(string url, TimeSpan? requestTimeout = null, int retries = 4, TimeSpan? budget = null) =>
        new(new MlflowOptions
        {
            TrackingUri = url,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(20),
            MaxRetries = retries,
            MaxTrackingTime = budget ?? TimeSpan.FromSeconds(60),
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        }, new HttpClient(), NullLogger.Instance);

    [Fact]
    public async Task A_deleted_experiment_is_reported_with_how_to_restore_it_and_nothing_is_created()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.AddExperiment("NetworkSecurity", "17", deleted: true);
        var result = await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None);
        output.WriteLine(result.Message);

        Assert.False(result.Tracked);
        Assert.Contains("experiment 'NetworkSecurity' (id 17) is deleted on MLflow server", result.Message);
        Assert.Contains("mlflow experiments restore --experiment-id 17", result.Message);
        Assert.Contains("MLFLOW_EXPERIMENT_NAME", result.Message);
        Assert.DoesNotContain(server.Requests, r => r.Path.EndsWith("experiments/create", StringComparison.Ordinal) || r.Path.EndsWith("runs/create", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deleted_experiment_met_through_resource_already_exists_is_reported_too()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.AddExperiment("NetworkSecurity", "17", deleted: true);
        var gets = 0;
        // The first lookup misses (e.g. a proxy cache); create then meets MLflow's RESOURCE_ALREADY_EXISTS for the deleted name.
        server.Fault = r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal) && Interlocked.Increment(ref gets) == 1
            ? (404, "{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"Could not find experiment with name 'NetworkSecurity'\"}", "application/json")
            : null;
        var result = await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None);

        Assert.False(result.Tracked);
        Assert.Contains("is deleted", result.Message);
        Assert.Single(server.Requests, r => r.Path.EndsWith("experiments/create", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Requests, r => r.Path.EndsWith("runs/create", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, "UNIQUE constraint failed: experiments.name")]
    [InlineData(true, "already exists in deleted state")]
    public async Task An_experiment_that_exists_but_cannot_be_read_says_so_with_the_servers_words(bool fileStoreBacked, string serverWords)
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.FileStoreBacked = fileStoreBacked;
        server.AddExperiment("NetworkSecurity", "17", deleted: true);
        server.Fault = r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal)
            ? (404, "{\"error_code\":\"RESOURCE_DOES_NOT_EXIST\",\"message\":\"Could not find experiment with name 'NetworkSecurity'\"}", "application/json")
            : null;
        var result = await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None);

        Assert.False(result.Tracked);
        Assert.Contains("exists on the server but cannot be read by name", result.Message);
        Assert.Contains("MLFLOW_EXPERIMENT_NAME", result.Message);
        Assert.Contains(serverWords, result.Message);
    }

    [Fact]
    public async Task A_server_that_accepts_and_never_answers_is_retried_per_request_and_the_message_states_the_real_figures()
    {
        using var dir = new TempDirectory();
        using var hung = new HungServer();
        var clock = Stopwatch.StartNew();
        var result = await Tracker(hung.Url, requestTimeout: TimeSpan.FromMilliseconds(500), retries: 2, budget: TimeSpan.FromSeconds(20))
            .TrackAsync(Run(dir), CancellationToken.None);
        clock.Stop();
        output.WriteLine(result.Message);

        Assert.False(result.Tracked);

        // One try and two retries, each on a fresh connection. The last one may still wait in the listen backlog when
        // the tracker gives up (the accept loop runs on a busy thread pool), so give the server a moment to take it; on a
        // loaded host the tracker's give-up reset it before it was taken (2 seen in a full run), so the server must have
        // seen the retries, and the third is checked in the client's own figures below.
        for (var waited = Stopwatch.StartNew(); hung.Connections < 3 && waited.Elapsed < TimeSpan.FromSeconds(5);)
        {
            await Task.Delay(20);
        }

        Assert.InRange(hung.Connections, 2, 3);
        Assert.Contains("got no answer within 0.5 s", result.Message);
        Assert.Contains("after 3 attempt(s)", result.Message);
        Assert.Contains("3 request(s) sent, 3 got no answer within the 0.5 s per-request timeout", result.Message);
        Assert.DoesNotContain("60 s", result.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}"); // far below the 20 s budget
    }

    [Fact]
    public async Task Retries_stop_when_the_tracking_budget_would_run_out_and_the_message_names_the_budget()
    {
        using var dir = new TempDirectory();
        using var hung = new HungServer();
        var clock = Stopwatch.StartNew();
        var result = await Tracker(hung.Url, requestTimeout: TimeSpan.FromSeconds(1), retries: 20, budget: TimeSpan.FromSeconds(2.5))
            .TrackAsync(Run(dir), CancellationToken.None);
        clock.Stop();
        output.WriteLine(result.Message);

        Assert.False(result.Tracked);
        Assert.Contains("2.5 s", result.Message);
        // The retry's connection may still wait in the listen backlog when the budget runs out (the accept loop runs on a
        // busy thread pool): give the server a moment to take it, as above.
        for (var waited = Stopwatch.StartNew(); hung.Connections < 2 && waited.Elapsed < TimeSpan.FromSeconds(5);)
        {
            await Task.Delay(20);
        }

        Assert.InRange(hung.Connections, 2, 3);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"took {clock.Elapsed}"); // 20 retries of 1 s would take over 20 s
    }

    [Fact]
    public async Task A_request_that_times_out_once_is_retried_and_the_run_is_tracked()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var slow = 0;
        // The first runs/create is answered only once the client has given up on it. (A Thread.Sleep here held one of
        // the few pool threads of a loaded 2-core machine, which the retry's answer could then wait for past its time-out.)
        server.Hold = async (request, aborted) =>
        {
            if (request.Path.EndsWith("runs/create", StringComparison.Ordinal) && Interlocked.Increment(ref slow) == 1)
            {
                await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        };
        var result = await Tracker(server.Url, requestTimeout: TimeSpan.FromSeconds(3)).TrackAsync(Run(dir), CancellationToken.None);
        Assert.True(result.Tracked, result.Message);
        Assert.Equal(2, server.Requests.Count(r => r.Path.EndsWith("runs/create", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_429_is_retried_and_a_400_is_not()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var limited = 0;
        server.Fault = r => r.Path.EndsWith("log-batch", StringComparison.Ordinal) && Interlocked.Increment(ref limited) == 1
            ? (429, "{\"error_code\":\"REQUEST_LIMIT_EXCEEDED\",\"message\":\"slow down\"}", "application/json")
            : null;
        Assert.True((await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None)).Tracked);
        Assert.Equal(2, server.Requests.Count(r => r.Path.EndsWith("log-batch", StringComparison.Ordinal)));

        await using var refusing = await MlflowStubServer.StartAsync();
        refusing.Fault = r => r.Path.EndsWith("log-batch", StringComparison.Ordinal)
            ? (400, "{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"bad\"}", "application/json")
            : null;
        var refused = await Tracker(refusing.Url).TrackAsync(Run(dir), CancellationToken.None);
        Assert.False(refused.Tracked);
        Assert.Contains("INVALID_PARAMETER_VALUE", refused.Message);
        Assert.Single(refusing.Requests, r => r.Path.EndsWith("log-batch", StringComparison.Ordinal));
        // The run was created: it is ended as FAILED (it showed RUNNING for ever), as MLflow's own client does.
        var end = Assert.Single(refusing.Requests, r => r.Path.EndsWith("runs/update", StringComparison.Ordinal));
        Assert.Equal("FAILED", end.Json["status"]!.GetValue<string>());
        Assert.Equal("run1", end.Json["run_id"]!.GetValue<string>());
        Assert.EndsWith("; run run1 was ended as FAILED on the server", refused.Message);
    }

    [Fact]
    public async Task An_experiment_name_mlflow_refuses_is_reported_without_a_request()
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var result = await Tracker(server.Url).TrackAsync(Run(dir, new string('e', 501)), CancellationToken.None);
        Assert.False(result.Tracked);
        Assert.Contains("MLflow allows 500", result.Message);
        Assert.Empty(server.Requests);
    }

    [Theory]
    // A tracking URI at a web app or proxy that answers any path with its HTML page: "'<' is an invalid start of a value".
    [InlineData("experiments/get-by-name", "<!doctype html><html><body>Sign in</body></html>", "text/html",
        "GET api/2.0/mlflow/experiments/get-by-name answered 200 with text/html that is not JSON: '<!doctype html><html><body>Sign in</body></html>'; is MLFLOW_TRACKING_URI (http://127.0.0.1:")]
    // JSON, but not MLflow's: "Object reference not set to an instance of an object".
    [InlineData("experiments/get-by-name", "{}", "application/json",
        "GET api/2.0/mlflow/experiments/get-by-name answered without experiment.experiment_id as a string, which MLflow always sends: '{}'")]
    [InlineData("experiments/get-by-name", "{\"experiment\": {\"experiment_id\": 7}}", "application/json",
        "answered without experiment.experiment_id as a string, which MLflow always sends: '{\"experiment\":{\"experiment_id\":7}}'")]
    [InlineData("runs/create", "{\"run\": {}}", "application/json",
        "POST api/2.0/mlflow/runs/create answered without run.info.run_id as a string")]
    public async Task An_answer_that_is_not_mlflows_is_named_with_the_call_and_what_came_back(string call, string body, string contentType, string expected)
    {
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        server.Fault = r => r.Path.EndsWith(call, StringComparison.Ordinal) ? (200, body, contentType) : null;

        var result = await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None);

        Assert.False(result.Tracked);
        Assert.Contains(expected, result.Message);
        Assert.Equal(1, server.Requests.Count(r => r.Path.EndsWith(call, StringComparison.Ordinal))); // a wrong address is not retried
    }

    [Fact]
    public async Task An_error_body_whose_fields_are_not_strings_is_read_and_a_503_still_retried()
    {
        // A gateway's {"error_code": 503}: reading it threw "An element of type 'Number' cannot be converted to a
        // 'System.String'", which ended the run's tracking at the first 503 instead of retrying it.
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var failed = 0;
        server.Fault = r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal) && Interlocked.Increment(ref failed) == 1
            ? (503, "{\"error_code\": 503, \"message\": [\"upstream\", \"busy\"]}", "application/json")
            : null;

        var result = await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        Assert.Equal(2, server.Requests.Count(r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal)));

        server.Fault = _ => (403, "{\"error_code\": 403, \"message\": {\"reason\": \"no access\"}}", "application/json");
        var refused = await Tracker(server.Url).TrackAsync(Run(dir), CancellationToken.None);
        Assert.Contains("GET api/2.0/mlflow/experiments/get-by-name answered 403 403: {\"reason\":\"no access\"}", refused.Message);
    }

    [Fact]
    public async Task A_run_stopped_by_a_shutdown_after_it_was_created_is_ended_as_killed_not_left_running()
    {
        // The service stopping while the run's metrics were on their way to a slow server: the run showed RUNNING for ever.
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        using var shutdown = new CancellationTokenSource();
        server.Hold = async (request, aborted) =>
        {
            if (request.Path.EndsWith("log-batch", StringComparison.Ordinal))
            {
                await shutdown.CancelAsync();
                await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Tracker(server.Url).TrackAsync(Run(dir), shutdown.Token));

        var update = Assert.Single(server.Requests, r => r.Path.EndsWith("runs/update", StringComparison.Ordinal));
        Assert.Equal("KILLED", update.Json["status"]!.GetValue<string>());
        Assert.Equal("run1", update.Json["run_id"]!.GetValue<string>());
        Assert.Equal(1_700_000_005_000, update.Json["end_time"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_server_that_closes_the_connection_is_named_as_such_and_retried()
    {
        // The message said only "An error occurred while sending the request".
        using var dir = new TempDirectory();
        using var server = new HungServer(closeAfterRequest: true);

        var result = await Tracker(server.Url, retries: 2).TrackAsync(Run(dir), CancellationToken.None);

        Assert.False(result.Tracked);
        Assert.Contains("GET api/2.0/mlflow/experiments/get-by-name failed: An error occurred while sending the request. (The response ended prematurely", result.Message);
        Assert.Contains("gave up after 3 attempt(s)", result.Message);
    }

    [Fact]
    public async Task A_rate_limit_is_waited_for_as_long_as_its_retry_after_asks()
    {
        // A rate limiter (DagsHub's, a proxy's) answers 429 with Retry-After: 1 and again 429 to anyone back sooner. The
        // retries came after 20, 40, 80 ms, were all refused, and the run was not tracked.
        using var dir = new TempDirectory();
        await using var server = await MlflowStubServer.StartAsync();
        var limitedUntil = DateTimeOffset.MinValue;
        var first = true;
        server.FaultHeaders["Retry-After"] = "1";
        server.Fault = _ =>
        {
            var now = DateTimeOffset.UtcNow;
            if (!first && now >= limitedUntil)
            {
                return null;
            }

            // Limited for a little less than the Retry-After it sends: a client that waits as asked is let through even
            // when its timer fires a millisecond early (a 1 s window failed now and then under load).
            (first, limitedUntil) = (false, first ? now.AddMilliseconds(900) : limitedUntil);
            return (429, "{\"error_code\": \"REQUEST_LIMIT_EXCEEDED\", \"message\": \"Too many requests\"}", "application/json");
        };

        var result = await Tracker(server.Url, retries: 3).TrackAsync(Run(dir), CancellationToken.None);

        Assert.True(result.Tracked, result.Message);
        Assert.Equal(2, server.Requests.Count(r => r.Path.EndsWith("get-by-name", StringComparison.Ordinal)));

        // A wait that does not fit in the budget is not started, and the message says what the server asked for.
        server.FaultHeaders["Retry-After"] = "3600";
        server.Fault = _ => (429, "{\"error_code\": \"REQUEST_LIMIT_EXCEEDED\", \"message\": \"Too many requests\"}", "application/json");
        var refused = await Tracker(server.Url, retries: 3).TrackAsync(Run(dir), CancellationToken.None);
        Assert.Contains("gave up after 1 attempt(s), with no time left for another (the server asked to wait 3600 s) in the tracking budget of 60 s", refused.Message);
    }

    [Fact]
    public void Timeouts_and_retries_come_from_mlflows_variables()
    {
        var options = MlflowOptions.FromEnvironment(name => name switch
        {
            "MLFLOW_TRACKING_URI" => "http://127.0.0.1:5000",
            "MLFLOW_HTTP_REQUEST_TIMEOUT" => "7",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES" => "2",
            _ => null,
        });
        Assert.Equal(TimeSpan.FromSeconds(7), options.RequestTimeout);
        Assert.Equal(2, options.MaxRetries);
        var secret = options with { TrackingUri = "https://user:uri-token@mlflow.example", Username = "user", Password = "pw-123", Token = "tok-456" };
        Assert.Equal("MlflowOptions { TrackingUri = https://user:***@mlflow.example, Username = user, Password = ***, Token = *** }", secret.ToString()); // a record prints every property
        Assert.Equal(TimeSpan.FromSeconds(20), MlflowOptions.FromEnvironment(_ => null).RequestTimeout);
        var error = Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_HTTP_REQUEST_MAX_RETRIES" ? "many" : null));
        Assert.Contains("MLFLOW_HTTP_REQUEST_MAX_RETRIES", error.Message);

        // 0 s is no timeout anyone means (it once became 20 s silently); a tracking URI that is not one is refused too.
        // Every wrong value gets the range that holds ("abc" and "-1" were told "a number of at least 0", which 0 is).
        foreach (var timeout in new[] { "0", "1e-9", "1e9", "abc", "-1", "NaN", "20s" }) // 1e9 s overflowed the request timer and failed every run
        {
            Assert.Equal($"MLFLOW_HTTP_REQUEST_TIMEOUT must be a number of seconds from 0.001 to 3600 (empty: 20), not '{timeout}'.",
                Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_HTTP_REQUEST_TIMEOUT" ? timeout : null)).Message);
        }

        foreach (var retries in new[] { "2.7", "-1", "many", "101" })
        {
            Assert.Equal($"MLFLOW_HTTP_REQUEST_MAX_RETRIES must be a whole number from 0 to 100 (empty: 4), not '{retries}'.",
                Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_HTTP_REQUEST_MAX_RETRIES" ? retries : null)).Message);
        }

        Assert.Equal(0, MlflowOptions.FromEnvironment(name => name == "MLFLOW_HTTP_REQUEST_MAX_RETRIES" ? "0" : null).MaxRetries);
        Assert.Contains("has spaces around it", MlflowOptions.TrackingUriProblem(" http://127.0.0.1:5000"));
        var file = Path.GetTempFileName();
        try
        {
            Assert.Equal($"MLFLOW_TRACKING_URI '{file}' is a file; the file store is a folder (mlruns).", MlflowOptions.TrackingUriProblem(file));
            Assert.Contains("is a file", MlflowOptions.TrackingUriProblem("file://" + file));
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Contains("not a valid server URL", Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_TRACKING_URI" ? "http://" : null)).Message);
        Assert.Contains("only http(s)://", Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_TRACKING_URI" ? "databricks://x" : null)).Message);
        Assert.Null(MlflowOptions.TrackingUriProblem("mlruns"));
        Assert.Null(MlflowOptions.TrackingUriProblem("file:///tmp/mlruns"));
    }

    [Theory]
    [InlineData(" https://user:s3cr3t-token@dagshub.com/o/r.mlflow")]
    [InlineData("https://user:s3cr3t-token@dagshub.com:99999/o/r.mlflow")]
    [InlineData("databricks://user:s3cr3t-token@workspace")]
    [InlineData("file://user:s3cr3t-token@otherhost/tmp/mlruns")]
    [InlineData("https://user:s3cr3t/token@host:port/x")]
    public void A_tracking_uri_that_cannot_be_used_is_named_with_its_password_masked(string uri)
    {
        // Quoted in the start-up error and the command's log file: the token of https://user:token@host was in both.
        var message = Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_TRACKING_URI" ? uri : null)).Message;
        Assert.DoesNotContain("s3cr3t", message);
        Assert.Contains("user:***@", message);
    }

    [Theory]
    [InlineData("https://s3cr3t-token@dagshub.com:99999/o/r.mlflow", "https://***@dagshub.com:99999/o/r.mlflow")]
    [InlineData("databricks://s3cr3t-token@workspace", "databricks://***@workspace")]
    [InlineData("file://s3cr3t-token@otherhost/tmp/mlruns", "file://***@otherhost/tmp/mlruns")]
    public void A_tracking_uri_with_a_user_alone_is_named_with_the_user_masked(string uri, string shown)
    {
        // MLflow sends a user without a password as Basic auth's user, where a token is put (https://TOKEN@host): it was
        // quoted as written in the start-up error and the log, where user:password@ has its password masked.
        var message = Assert.Throws<ArgumentException>(() => MlflowOptions.FromEnvironment(name => name == "MLFLOW_TRACKING_URI" ? uri : null)).Message;
        Assert.DoesNotContain("s3cr3t", message);
        Assert.Contains($"'{shown}'", message);
        Assert.Equal("MlflowOptions { TrackingUri = https://***@mlflow.example, Username = , Password = unset, Token = unset }",
            new MlflowOptions { TrackingUri = "https://s3cr3t-token@mlflow.example" }.ToString());
    }

    /// <summary>
    /// A TCP server on 127.0.0.1 that accepts connections, reads what comes and never answers; or, with
    /// <paramref name="closeAfterRequest"/>, closes each connection once the request is read (a proxy dropping it).
    /// </summary>
    private sealed class HungServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _clients = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly bool _closeAfterRequest;
        private int _connections;

        public HungServer(bool closeAfterRequest = false)
        {
            _closeAfterRequest = closeAfterRequest;
            _listener.Start();
            _ = AcceptAsync();
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public int Connections => Volatile.Read(ref _connections);

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    if (_closeAfterRequest)
                    {
                        _ = await client.GetStream().ReadAsync(new byte[65536], _stop.Token);
                        client.Dispose();
                        continue;
                    }

                    lock (_clients)
                    {
                        _clients.Add(client); // kept open, never answered
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
            catch (SocketException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }
    }
}
