using NetworkSecurity.Api.Replication;

namespace NetworkSecurity.Api.Tests;

public sealed class ModelOriginTests
{
    [Fact]
    public void A_service_that_retrains_for_ever_remembers_the_origins_of_its_recent_versions_only()
    {
        // One origin was kept per training run for as long as the service ran: a run every few minutes grew it without end.
        var origins = new ModelOrigin();
        const int runs = 1000;
        for (var run = 0; run < runs; run++)
        {
            origins.Record($"v{run:D4}", $"trained on this replica (job {run})");
        }

        // The versions a store can still serve, and many more, keep their origin; the oldest are forgotten.
        for (var run = runs - ModelOrigin.Kept; run < runs; run++)
        {
            Assert.Equal($"trained on this replica (job {run})", origins.Describe($"v{run:D4}"));
        }

        Assert.Equal("local model folder", origins.Describe("v0000"));
        Assert.Equal("local model folder", origins.Describe($"v{runs - ModelOrigin.Kept - 1:D4}"));

        // Recording a remembered version again updates it without forgetting another.
        origins.Record($"v{runs - 1:D4}", "pulled from s3://bucket/final_model/");
        Assert.Equal("pulled from s3://bucket/final_model/", origins.Describe($"v{runs - 1:D4}"));
        Assert.Equal($"trained on this replica (job {runs - ModelOrigin.Kept})", origins.Describe($"v{runs - ModelOrigin.Kept:D4}"));
    }
}
