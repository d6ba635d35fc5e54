using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Storage;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Tests;

public sealed class SharedJobsTests
{
    [Fact]
    public async Task A_store_that_takes_records_but_refuses_to_list_them_is_not_said_to_lack_the_record()
    {
        // A store whose policy allows s3:PutObject but not s3:ListBucket: the record is written, pruning is refused.
        using var store = new RefusingListStore();
        var queue = new TrainingJobQueue();
        var job = new TrainingJob("requested through POST /train", DateTimeOffset.UtcNow, "replica-x");
        queue.Add(job);
        job.Update(s => s with { State = TrainingJobState.Failed, FinishedAt = DateTimeOffset.UtcNow, Error = "bad data" });
        var lines = new LinesLogger();
        using var shared = new SharedJobs(
            queue,
            new SharedStorage(new S3Options { Bucket = "models", ServiceUrl = store.Endpoint, ForcePathStyle = true, DisableChunkedEncoding = true, AccessKey = "k", SecretKey = "s" }),
            new LocalTrainingLease("replica-x", TimeProvider.System),
            Options.Create(new ReplicationOptions()),
            Options.Create(new Microsoft.AspNetCore.Http.Json.JsonOptions()),
            TimeProvider.System,
            new LinesLogger<SharedJobs>(lines));

        // Shared by the service's own loop, which waits as long as the store takes: ShareNowAsync gives it 3 s, which a
        // cold S3 client on a loaded machine used up between the record's PUT and the listing (seen in a run under load).
        bool Refused() => lines.Entries.Any(e => e.Text.StartsWith("Could not remove old training job records", StringComparison.Ordinal));
        await shared.StartAsync(CancellationToken.None);
        try
        {
            for (var waited = System.Diagnostics.Stopwatch.StartNew(); !Refused() && waited.Elapsed < TimeSpan.FromSeconds(60);)
            {
                await Task.Delay(100);
            }
        }
        finally
        {
            await shared.StopAsync(CancellationToken.None);
        }

        Assert.Contains($"PUT /models/jobs/{job.Id}.json", store.Requests);
        Assert.Contains(store.Requests, r => r.StartsWith("GET /models/?list-type=2", StringComparison.Ordinal));
        Assert.DoesNotContain(lines.Lines, l => l.Contains("Could not record training job", StringComparison.Ordinal));
        Assert.Contains(lines.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && e.Text.StartsWith("Could not remove old training job records from s3://models/jobs/ (", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_job_queued_as_the_shutdown_began_is_recorded_failed_by_the_stopping_replica_not_left_queued()
    {
        // The worker is still loading its first model (held here by the model folder's gate, as a slow pull from the store
        // holds it) when POST /train queues a job; then the service stops. The record read "queued" on the other replicas
        // until it lapsed, twice the lease time later.
        using var store = new RefusingListStore();
        using var folder = new TempDirectory();
        var gate = new ModelFolderGate();
        await gate.Lock.WaitAsync();
        var factory = new ApiFactory(Path.Combine(folder.Path, "final_model"), Path.Combine(folder.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["S3_BUCKET"] = "models", ["S3_ENDPOINT_URL"] = store.Endpoint, ["S3_FORCE_PATH_STYLE"] = "true", ["S3_DISABLE_CHUNKED_ENCODING"] = "true",
            ["AWS_ACCESS_KEY_ID"] = "k", ["AWS_SECRET_ACCESS_KEY"] = "s",
        }).WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            services.Replace(ServiceDescriptor.Singleton(gate));
            services.Replace(ServiceDescriptor.Singleton<ITrainingLease>(new LocalTrainingLease("replica-q", TimeProvider.System)));
        }));
        string id;
        try
        {
            using var response = await factory.CreateClient().PostAsync("/train", null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
            id = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
            Assert.Contains("\"state\":\"queued\"", store.LastBody($"PUT /models/jobs/{id}.json"));
        }
        finally
        {
            await factory.DisposeAsync(); // the host's stop
            gate.Dispose();
        }

        var record = store.LastBody($"PUT /models/jobs/{id}.json");
        Assert.Contains("\"state\":\"failed\"", record);
        Assert.Contains("\"error\":\"The service stopped before the job started.\"", record);
    }

    /// <summary>An S3 endpoint on loopback that stores nothing: a PUT succeeds (its body is kept), anything else is AccessDenied.</summary>
    private sealed class RefusingListStore : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, NetworkSecurity.Storage.Tests.TestPorts.ForServer());
        private readonly List<string> _requests = [];
        private readonly Dictionary<string, string> _bodies = [];
        private readonly CancellationTokenSource _stop = new();

        public RefusingListStore()
        {
            _listener.Start();
            _ = ServeAsync();
        }

        public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        /// <summary>The body of the last such request (e.g. "PUT /models/jobs/&lt;id&gt;.json").</summary>
        public string LastBody(string request)
        {
            lock (_requests)
            {
                return _bodies.TryGetValue(request, out var body) ? body : throw new InvalidOperationException($"no {request} among {string.Join(", ", _requests)}");
            }
        }

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                using (client)
                {
                    await AnswerAsync(client.GetStream());
                }
            }
        }

        private async Task AnswerAsync(NetworkStream stream)
        {
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
            {
                head.Append((char)one[0]);
            }

            var lines = head.ToString().Split("\r\n");
            var length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
            var body = new byte[length];
            for (var read = 0; read < length;)
            {
                read += await stream.ReadAsync(body.AsMemory(read));
            }

            var request = string.Join(' ', lines[0].Split(' ').Take(2));
            lock (_requests)
            {
                _requests.Add(request);
                _bodies[request] = Encoding.UTF8.GetString(body);
            }

            const string Denied = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
            var answer = request.StartsWith("PUT ", StringComparison.Ordinal)
                ? $"HTTP/1.1 200 OK\r\nETag: \"{Convert.ToHexStringLower(MD5.HashData(body))}\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                : $"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {Denied.Length}\r\nConnection: close\r\n\r\n{Denied}";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
