using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Storage;

namespace NetworkSecurity.Api.Tests;

public sealed class BackgroundPublisherTests
{
    [Fact]
    public async Task Stopping_ends_every_publication_still_queued_so_nothing_waits_on_it()
    {
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there: every upload attempt fails and is retried
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "metrics.json"), "{}");
        var store = new S3ArtifactStore(
            new S3Options { Bucket = "models", ServiceUrl = $"http://127.0.0.1:{port}", ForcePathStyle = true, AccessKey = "k", SecretKey = "s" },
            NullLogger.Instance);
        using var publisher = new BackgroundPublisher(store, Options.Create(new ReplicationOptions { PublishRetrySeconds = 600 }), TimeProvider.System, NullLogger<BackgroundPublisher>.Instance);
        await publisher.StartAsync(CancellationToken.None);
        string[] runs = ["20260101_000001", "20260101_000002", "20260101_000003"];
        foreach (var run in runs)
        {
            Assert.True((await publisher.PublishAsync(dir.Path, run, null, CancellationToken.None)).Synced); // handed over
        }

        // The first is being tried (refused, retried after a pause); the others wait behind it.
        var first = publisher.Find(runs[0])!;
        var retrying = new TaskCompletionSource();
        first.Changed += status => { if (status.State == PublicationState.Retrying) retrying.TrySetResult(); };
        if (first.Status.State != PublicationState.Retrying)
        {
            await retrying.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        await publisher.StopAsync(CancellationToken.None);
        // Without the drain at stop, the runs behind the first would never complete (a lease holder waits on them).
        string[] expected = ["the service stopped before the publication finished", "the service stopped before the publication started", "the service stopped before the publication started"];
        for (var i = 0; i < runs.Length; i++)
        {
            var status = await publisher.Find(runs[i])!.Completion.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal((PublicationState.Failed, expected[i]), (status.State, status.Message));
        }
    }

    [Fact]
    public async Task A_run_that_finishes_after_the_service_began_stopping_is_told_the_service_stopped_not_that_the_queue_is_full()
    {
        // A SIGTERM during training lets the run finish; its publication comes after the publisher stopped.
        using var dir = new TempDirectory();
        var store = new S3ArtifactStore(
            new S3Options { Bucket = "models", ServiceUrl = "http://127.0.0.1:9", ForcePathStyle = true, AccessKey = "k", SecretKey = "s" },
            NullLogger.Instance);
        using var publisher = new BackgroundPublisher(store, Options.Create(new ReplicationOptions()), TimeProvider.System, NullLogger<BackgroundPublisher>.Instance);
        await publisher.StartAsync(CancellationToken.None);
        await publisher.StopAsync(CancellationToken.None);

        var result = await publisher.PublishAsync(dir.Path, "20260101_000001", null, CancellationToken.None);

        Assert.False(result.Synced);
        var status = publisher.Find("20260101_000001")!.Status;
        Assert.Equal(PublicationState.Failed, status.State);
        Assert.Equal("the service stopped before the publication started; the next start publishes its model if it is still served", status.Message);
        Assert.Equal(status.Message, result.Message);
    }
}
