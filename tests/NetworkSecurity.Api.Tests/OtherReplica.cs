using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Storage;
using NetworkSecurity.Storage.Replication;
using NetworkSecurity.Storage.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>Another replica sharing object storage, as far as its jobs go.</summary>
internal static class OtherReplica
{
    /// <summary>The settings of a replica of the service sharing <paramref name="bucket"/> on <paramref name="server"/>.</summary>
    public static Dictionary<string, string?> SharingSettings(S3rverFixture server, string bucket) => new()
    {
        ["S3_BUCKET"] = bucket, ["S3_ENDPOINT_URL"] = server.Endpoint, ["S3_FORCE_PATH_STYLE"] = "true", ["S3_DISABLE_CHUNKED_ENCODING"] = "true",
        ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
    };

    /// <summary>Records <paramref name="job"/> in the store as that replica's own loop does, and returns once it is there.</summary>
    public static async Task RecordAsync(S3Options options, TrainingJob job)
    {
        var queue = new TrainingJobQueue();
        queue.Add(job);
        var replica = job.Status.Replica ?? "replica-b";
        using var shared = new SharedJobs(queue, new SharedStorage(options), new LocalTrainingLease(replica, TimeProvider.System), Options.Create(new ReplicationOptions()),
            Options.Create(new Microsoft.AspNetCore.Http.Json.JsonOptions()), TimeProvider.System, new LinesLogger<SharedJobs>(new LinesLogger()));
        await shared.StartAsync(CancellationToken.None);
        using var board = new S3JobBoard(options);
        // Recorded by its loop: polled, not assumed done.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); await board.ReadAsync(job.Id, CancellationToken.None) is null && waited.Elapsed < TimeSpan.FromSeconds(60);)
        {
            await Task.Delay(100);
        }

        await shared.StopAsync(CancellationToken.None);
    }
}
