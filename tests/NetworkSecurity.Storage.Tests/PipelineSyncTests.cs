using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;
using NetworkSecurity.Tracking;

namespace NetworkSecurity.Storage.Tests;

/// <summary>A whole training run shipping to S3, and one whose store is down: the model is promoted either way.</summary>
public sealed class PipelineSyncTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    private static TrainingPipeline Pipeline(TempDirectory dir, IArtifactStore store, out string finalModel)
    {
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 1500));
        options.OverfittingThreshold = 1;
        finalModel = options.FinalModelDirectory;
        return new TrainingPipeline(options, new CsvDataSource(options.DataPath), new GradientBoostingTrainer(options.Seed),
            new MlflowFileStoreTracker(Path.Combine(dir.Path, "mlruns")), store, NullLoggerFactory.Instance);
    }

    [Fact]
    public async Task A_run_ships_its_artifacts_and_model_to_the_bucket()
    {
        using var dir = new TempDirectory();
        var bucket = "run" + Guid.NewGuid().ToString("N")[..10];
        using (var client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = server.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" }))
        {
            await client.PutBucketAsync(bucket);
        }

        using var store = new S3ArtifactStore(server.Options(bucket), NullLogger.Instance);
        var result = await Pipeline(dir, store, out _).RunAsync(null, CancellationToken.None);
        Assert.True(result.Sync.Synced, result.Sync.Message);
        Assert.True(result.Tracking.Tracked, result.Tracking.Message);
        Assert.True(result.Sync.FilesUploaded >= 15, result.Sync.Message);

        using var replica = new TempDirectory();
        Assert.True(await store.TryPullLatestModelAsync(replica.Path, folder => ModelStore.LoadVerified(folder, null), CancellationToken.None));
        Assert.Equal(result.PromotedVersion, new ModelStore(replica.Path).CurrentVersion);
    }

    [Fact]
    public async Task A_run_whose_store_is_down_still_promotes_its_model_and_says_what_was_not_synced()
    {
        using var dir = new TempDirectory();
        using var store = new S3ArtifactStore(server.Options("bucket") with { ServiceUrl = "http://127.0.0.1:1", MaxSyncTime = TimeSpan.FromSeconds(5) }, NullLogger.Instance);
        var result = await Pipeline(dir, store, out var finalModel).RunAsync(null, CancellationToken.None);
        Assert.NotNull(result.PromotedVersion);
        Assert.Equal(result.PromotedVersion, new ModelStore(finalModel).CurrentVersion);
        Assert.False(result.Sync.Synced);
        Assert.Contains("127.0.0.1:1", result.Sync.Message);
    }
}
