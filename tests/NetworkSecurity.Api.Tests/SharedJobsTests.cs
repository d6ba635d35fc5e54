using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;
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

    /// <summary>An S3 endpoint on loopback that stores nothing: a PUT succeeds, a listing is AccessDenied.</summary>
    private sealed class RefusingListStore : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<string> _requests = [];
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
