using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Storage.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>Job times of replicas whose own clocks disagree, against a real S3-compatible server.</summary>
public sealed class SharedJobClockTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    [Fact]
    public async Task A_job_on_a_replica_whose_clock_runs_an_hour_behind_is_timed_on_the_stores_clock_and_is_the_most_recent_job()
    {
        // GET /train answers the job with the newest created_at of all replicas. Stamped on this replica's own clock, an
        // hour behind, its new job was taken for older than another replica's of ten minutes before, which it answered.
        var options = server.Options(await server.NewBucketAsync('c'));
        var tenMinutesAgo = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10);
        var older = new TrainingJob("requested through POST /train", tenMinutesAgo, "replica-a");
        older.Update(s => s with { State = TrainingJobState.Failed, StartedAt = tenMinutesAgo, FinishedAt = tenMinutesAgo.AddSeconds(5), Error = "bad data" });
        await OtherReplica.RecordAsync(options, older);
        using var folder = new TempDirectory();
        await using var factory = new ApiFactory(Path.Combine(folder.Path, "final_model"), Path.Combine(folder.Path, "Artifacts"), new Dictionary<string, string?>(OtherReplica.SharingSettings(server, options.Bucket)) { ["Replication:ReplicaId"] = "replica-b" })
        {
            TestServices = services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(new ShiftedClock(TimeSpan.FromHours(-1)))),
        };
        var client = factory.CreateClient();

        var before = DateTimeOffset.UtcNow;
        using var accepted = await client.PostAsync("/train", null);
        var answer = await accepted.Content.ReadAsStringAsync();
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, answer);
        var id = JsonDocument.Parse(answer).RootElement.GetProperty("id").GetString()!;
        JsonElement job;
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(200))
        {
            job = JsonDocument.Parse(await client.GetStringAsync($"/train/{id}")).RootElement;
            var state = job.GetProperty("state").GetString();
            if (state is "succeeded" or "failed" || waited.Elapsed > TimeSpan.FromMinutes(3))
            {
                Assert.True(state == "succeeded", job.ToString());
                break;
            }
        }

        var after = DateTimeOffset.UtcNow;
        foreach (var name in new[] { "created_at", "started_at", "finished_at" })
        {
            var at = job.GetProperty(name).GetDateTimeOffset();
            Assert.True(at >= before.AddSeconds(-5) && at <= after.AddSeconds(5), $"{name} {at:O} is not between {before:O} and {after:O} (the store's clock): {job}");
        }

        var latest = JsonDocument.Parse(await client.GetStringAsync("/train")).RootElement;
        Assert.True(latest.GetProperty("id").GetString() == id, $"GET /train answered {latest} rather than job {id}, queued after replica-a's {older.Id}");
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
