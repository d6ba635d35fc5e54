using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>push-data → train from MongoDB end to end; a failing MongoDB never costs the live model or leaves half-written artifacts.</summary>
public sealed class TrainingTests : MongoTestBase
{
    private static readonly IReadOnlyCollection<string> Fields = MongoDataSource.FieldsOf(SchemaLoader.Load(TestPaths.SchemaFile));

    [Fact]
    public async Task The_training_pipeline_reads_from_mongodb_and_promotes_a_model()
    {
        using var dir = new TempDirectory();
        var options = Options(batchSize: 500);
        await MongoDataLoader.PushAsync(options, CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 1500)), drop: true, CancellationToken.None);
        var result = await Pipeline(dir, new MongoDataSource(options, Fields)).RunAsync(null, CancellationToken.None);
        Assert.NotNull(result.PromotedVersion);
        Assert.Equal(1200, File.ReadLines(Path.Combine(result.ArtifactDirectory, "data_ingestion", "train.csv")).Count() - 1);
        Assert.Contains($"source: {options.Namespace}", File.ReadAllText(Path.Combine(result.ArtifactDirectory, "data_ingestion", "report.yaml")), StringComparison.Ordinal);
        Assert.Equal(result.PromotedVersion, new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
    }

    [Fact]
    public async Task A_collection_over_the_training_row_limit_is_refused_before_it_is_read_and_keeps_the_live_model()
    {
        using var dir = new TempDirectory();
        var live = await TrainFirstModel(dir);
        var options = Options(batchSize: 100);
        await MongoDataLoader.PushAsync(options, CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 300)), drop: true, CancellationToken.None);
        var limit = new PipelineOptions { MaxTrainingRows = 250 }.TrainingRecordLimit();
        var ex = await Assert.ThrowsAsync<PipelineException>(() => Pipeline(dir, new MongoDataSource(options, Fields, limit: limit)).RunAsync(null, CancellationToken.None));
        Assert.StartsWith($"{options.Namespace}: about 300 documents, more than 250 records (the most Pipeline:MaxTrainingRows allows).", ex.Message, StringComparison.Ordinal);
        AssertNothingChanged(dir, live);
    }

    [Fact]
    public async Task An_unreachable_mongodb_fails_the_run_clearly_without_artifacts_and_keeps_the_live_model()
    {
        using var dir = new TempDirectory();
        var live = await TrainFirstModel(dir);
        var options = TestServerOptions() with { ConnectionString = "mongodb://127.0.0.1:1", ServerSelectionTimeout = TimeSpan.FromSeconds(1) };
        var ex = await Assert.ThrowsAsync<PipelineException>(() => Pipeline(dir, new MongoDataSource(options, Fields)).RunAsync(null, CancellationToken.None));
        Assert.Contains("no MongoDB server answered within 1 s (Connection refused", ex.Message);
        AssertNothingChanged(dir, live);
    }

    [Fact]
    public async Task Refused_credentials_fail_the_run_clearly_and_keep_the_live_model()
    {
        using var dir = new TempDirectory();
        var live = await TrainFirstModel(dir);
        Server.RequireAuthentication = true;
        Server.Users["trainer"] = "right";
        var options = TestServerOptions() with { ConnectionString = Server.ConnectionString.Replace("mongodb://", "mongodb://trainer:wrong@", StringComparison.Ordinal) };
        var ex = await Assert.ThrowsAsync<PipelineException>(() => Pipeline(dir, new MongoDataSource(options, Fields)).RunAsync(null, CancellationToken.None));
        Assert.Contains("the server refused the credentials", ex.Message);
        Assert.DoesNotContain(":wrong@", ex.Message);
        AssertNothingChanged(dir, live);
    }

    [Fact]
    public async Task An_empty_collection_fails_the_run_clearly_and_keeps_the_live_model()
    {
        using var dir = new TempDirectory();
        var live = await TrainFirstModel(dir);
        var ex = await Assert.ThrowsAsync<PipelineException>(() => Pipeline(dir, new MongoDataSource(Options(), Fields)).RunAsync(null, CancellationToken.None));
        Assert.Contains("does not exist at", ex.Message);
        AssertNothingChanged(dir, live);
    }

    [Fact]
    public async Task Documents_with_wrong_types_fail_the_run_listing_them_by_id_and_keep_the_live_model()
    {
        using var dir = new TempDirectory();
        var live = await TrainFirstModel(dir);
        var options = TestServerOptions();
        await MongoDataLoader.PushAsync(options, CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 300)), drop: true, CancellationToken.None);
        Server.Insert(options.Database, options.Collection,
            "{\"_id\": \"bad-1\", " + string.Join(", ", Fields.Where(f => SchemaLoader.Load(TestPaths.SchemaFile).FeatureNames.Contains(f)).Select(f => $"\"{f}\": {(f == "SSLfinal_State" ? "true" : "1")}")) + ", \"Result\": 1}");
        var ex = await Assert.ThrowsAsync<PipelineException>(() => Pipeline(dir, new MongoDataSource(options, Fields)).RunAsync(null, CancellationToken.None));
        Assert.Contains("1 of 301 records are invalid", ex.Message);
        var invalid = Directory.GetFiles(Path.Combine(dir.Path, "Artifacts"), "*", SearchOption.AllDirectories).Where(f => f.Contains("invalid", StringComparison.Ordinal)).Select(File.ReadAllText);
        Assert.Contains(invalid, text => text.Contains("document _id bad-1", StringComparison.Ordinal) && text.Contains("'BSON bool: true' is not a number.", StringComparison.Ordinal));
        Assert.Equal(live, new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentVersion);
    }

    private static TrainingPipeline Pipeline(TempDirectory dir, IDataSource source)
    {
        var options = PipelineFactory.Options(dir, Path.Combine(dir.Path, "unused.csv"));
        options.DataSource = "mongodb";
        options.OverfittingThreshold = 1;
        return new TrainingPipeline(options, source, new GradientBoostingTrainer(42), new NoExperimentTracker(), new NoArtifactStore(), NullLoggerFactory.Instance);
    }

    private static async Task<string> TrainFirstModel(TempDirectory dir)
    {
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 600));
        options.OverfittingThreshold = 1;
        var result = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        return result.PromotedVersion!; // a run started in the same second gets its own folder (<timestamp>_1)
    }

    // The failed run wrote nothing, not even an empty artifacts folder, and the live model is the one from before.
    private static void AssertNothingChanged(TempDirectory dir, string liveVersion)
    {
        var runs = Directory.GetDirectories(Path.Combine(dir.Path, "Artifacts")).Order(StringComparer.Ordinal).ToList();
        Assert.Single(runs); // the first model's run only
        var store = new ModelStore(Path.Combine(dir.Path, "final_model"));
        Assert.Equal(liveVersion, store.CurrentVersion);
        Assert.Single(Directory.GetDirectories(store.Directory));
    }
}
