using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Storage;
using NetworkSecurity.Storage.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>What readiness says about a store that stopped answering, against a real socket that never answers.</summary>
[Collection(TrainedModelCollection.Name)]
public sealed partial class StoreOutageSinceTests(TrainedModelFixture model)
{
    private static readonly TimeSpan SyncBudget = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_store_that_stops_answering_is_said_unreadable_since_the_poll_that_met_it_began_not_since_that_poll_gave_up()
    {
        // The outage's start was stamped when the poll gave up (MaxSyncTime, 60 s by default, after it asked): a store
        // hung since 03:04:50 was said unreadable "since 03:05:50" by /health/ready and /model.
        using var store = new SilentStore();
        var settings = new Dictionary<string, string?>
        {
            ["S3_BUCKET"] = "silent", ["S3_ENDPOINT_URL"] = store.Endpoint, ["S3_FORCE_PATH_STYLE"] = "true", ["S3_DISABLE_CHUNKED_ENCODING"] = "true",
            ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["Replication:PollSeconds"] = "1", ["Replication:LeaseMode"] = "settle", ["Replication:ReplicaId"] = "replica-silent",
        };
        var s3 = S3Options.FromEnvironment(key => settings.GetValueOrDefault(key.Replace("__", ":", StringComparison.Ordinal)))! with { MaxSyncTime = SyncBudget };
        await using var factory = new ApiFactory(model.FinalModelDirectory, model.ArtifactsRoot, settings)
        {
            TestServices = services => services.Replace(ServiceDescriptor.Singleton(new SharedStorage(s3))),
        };
        var client = factory.CreateClient();

        string? because = null;
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); because is null; await Task.Delay(200))
        {
            var ready = JsonDocument.Parse(await client.GetStringAsync("/health/ready")).RootElement;
            if (ready.GetProperty("checks").GetProperty("model").GetProperty("data").TryGetProperty("store_latest_not_served_because", out var reason))
            {
                because = reason.GetString();
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(120), $"readiness never said the store cannot be read: {ready}");
        }

        var since = SincePattern().Match(because!);
        Assert.True(since.Success, because);
        var saidSince = DateTimeOffset.ParseExact(since.Groups[1].Value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        // The first read of LATEST reached the store at once and was never answered: the outage began then (the
        // message has whole seconds, so it is compared with that request's second).
        var asked = store.Requests.Where(r => r.Line.Contains("/final_model/LATEST", StringComparison.Ordinal)).Select(r => r.At).Order().First();
        var askedSecond = new DateTimeOffset(asked.Ticks - (asked.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        Assert.True(saidSince <= askedSecond, $"said unreadable since {saidSince:O}, but LATEST was asked at {asked:O} and never answered: {because}");
        Assert.True(saidSince >= askedSecond - SyncBudget, $"said unreadable since {saidSince:O}, long before LATEST was asked at {asked:O}: {because}");
    }

    [GeneratedRegex(@"cannot be read since (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)Z")]
    private static partial Regex SincePattern();

    /// <summary>A TCP server that reads each request's first line and never answers, as a store that hangs.</summary>
    private sealed class SilentStore : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentBag<TcpClient> _clients = [];

        public SilentStore()
        {
            _listener = new TcpListener(IPAddress.Loopback, TestPorts.ForServer());
            _listener.Start();
            Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _ = AcceptAsync();
        }

        public string Endpoint { get; }

        public ConcurrentBag<(DateTimeOffset At, string Line)> Requests { get; } = [];

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _clients.Add(client);
                    _ = ReadFirstLineAsync(client);
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
        }

        private async Task ReadFirstLineAsync(TcpClient client)
        {
            try
            {
                using var reader = new StreamReader(client.GetStream(), leaveOpen: true);
                while (await reader.ReadLineAsync(_stop.Token) is { Length: > 0 } line)
                {
                    if (line.Contains(" HTTP/1.", StringComparison.Ordinal))
                    {
                        Requests.Add((DateTimeOffset.UtcNow, line));
                    }
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested || !client.Connected)
            {
            }
            catch (IOException)
            {
            }
        }
    }
}
