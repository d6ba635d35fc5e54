using System.Net;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Storage.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>The home page's last job with replicas sharing object storage, against a real S3-compatible server.</summary>
public sealed class HomePageSharedJobTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task The_home_page_shows_the_most_recent_job_of_all_replicas_as_get_train_does()
    {
        // Behind a load balancer the page after a Retrain may come from another replica: it said "No training run since
        // the service started" while GET /train, on the same replica, answered the other replica's job.
        var options = server.Options(await server.NewBucketAsync('h'));
        var job = new TrainingJob("requested through POST /train", DateTimeOffset.UtcNow, "replica-b");
        job.Update(s => s with { State = TrainingJobState.Failed, FinishedAt = DateTimeOffset.UtcNow, Error = "bad data on replica b" });
        await OtherReplica.RecordAsync(options, job);

        using var folder = new TempDirectory();
        await using var factory = new ApiFactory(Path.Combine(folder.Path, "final_model"), Path.Combine(folder.Path, "Artifacts"), OtherReplica.SharingSettings(server, options.Bucket));
        var client = factory.CreateClient();

        var latest = await client.GetStringAsync("/train");
        var page = await client.GetStringAsync("/");

        Assert.Contains($"\"id\":\"{job.Id}\"", latest);
        Assert.Contains($"data-job=\"{job.Id}\" data-state=\"failed\"", page);
        Assert.Contains("bad data on replica b", page);
        Assert.DoesNotContain("No training run since the service started", page);
    }
}
