using System.Diagnostics;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>
/// The MongoDB data source and push-data through the real C driver (libmongoc), against the wire-protocol test server
/// on 127.0.0.1 — or against a real server when NETWORKSECURITY_TEST_MONGODB_URI names one (the tests that need the
/// test server's hooks then use it anyway).
/// </summary>
public sealed class MongoTests : IAsyncLifetime
{
    private static readonly string? RealServer = Environment.GetEnvironmentVariable("NETWORKSECURITY_TEST_MONGODB_URI");
    private WireProtocolServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new WireProtocolServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private MongoOptions Options(string? collection = null, int batchSize = 1000) => new()
    {
        ConnectionString = RealServer ?? _server.ConnectionString,
        Database = "networksecurity_tests",
        Collection = collection ?? "c" + Guid.NewGuid().ToString("N")[..8],
        BatchSize = batchSize,
        ServerSelectionTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Push_data_then_ingestion_gives_exactly_the_rows_of_the_csv()
    {
        var csv = CsvTableReader.ReadFile(TestPaths.DataFile);
        var options = Options();
        var pushed = await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        Assert.Equal(11055, pushed.Inserted);
        Assert.Equal(11055, pushed.CollectionCount);

        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(csv.Columns, table.Columns);
        Assert.Equal(11055, table.Records.Count);
        for (var r = 0; r < csv.Records.Count; r++)
        {
            Assert.Equal(csv.Records[r].Values, table.Records[r].Values);
        }

        Assert.StartsWith("document _id ", table.Records[0].Location);
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var parsed = DatasetParser.Parse(table, schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Empty(parsed.Invalid);
        Assert.Equal(6157, parsed.Valid.CountOf(1));
        if (RealServer is null)
        {
            Assert.Contains("getMore", _server.Commands); // more than one cursor batch
        }
    }

    [Fact]
    public async Task The_training_pipeline_reads_from_mongodb_and_promotes_a_model()
    {
        using var dir = new TempDirectory();
        var options = Options();
        await MongoDataLoader.PushAsync(options, CsvTableReader.ReadFile(PipelineFactory.Sample(dir, 1500)), drop: true, CancellationToken.None);
        var pipelineOptions = PipelineFactory.Options(dir, "unused.csv");
        pipelineOptions.DataSource = "mongodb";
        pipelineOptions.OverfittingThreshold = 1;
        var pipeline = new TrainingPipeline(pipelineOptions, new MongoDataSource(options), new Pipeline.Training.GradientBoostingTrainer(42),
            new Pipeline.Tracking.NoExperimentTracker(), new Pipeline.Storage.NoArtifactStore(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var result = await pipeline.RunAsync(null, CancellationToken.None);
        Assert.NotNull(result.PromotedVersion);
        Assert.Equal(1200, File.ReadLines(Path.Combine(result.ArtifactDirectory, "data_ingestion", "train.csv")).Count() - 1);
    }

    [Fact]
    public async Task Push_data_with_drop_is_safe_to_re_run()
    {
        var csv = CsvTableReader.Read(new StringReader("a,b\n1,2\n3,4\n"), "small.csv");
        var options = Options();
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var again = await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        Assert.Equal(2, again.CollectionCount);
        var appended = await MongoDataLoader.PushAsync(options, csv, drop: false, CancellationToken.None);
        Assert.Equal(4, appended.CollectionCount);
    }

    [Fact]
    public async Task Small_cursor_batches_stream_every_document()
    {
        var options = Options(batchSize: 7);
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        await MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None);
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), table.Records.Select(r => r.Values[0]));
    }

    [Fact]
    public async Task Missing_extra_null_na_and_nested_fields_are_mapped_and_bad_documents_reported_by_id()
    {
        if (RealServer is not null)
        {
            return; // needs the test server's direct insert hook
        }

        var options = Options();
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var full = string.Join(", ", schema.FeatureNames.Select(n => $"\"{n}\": 1"));
        _server.Insert(options.Database, options.Collection,
            $"{{\"_id\": {{\"$oid\": \"65a000000000000000000001\"}}, {full}, \"Result\": 1, \"extra\": \"x\"}}",
            $"{{\"_id\": {{\"$oid\": \"65a000000000000000000002\"}}, {full.Replace("\"SFH\": 1", "\"SFH\": null", StringComparison.Ordinal).Replace("\"Iframe\": 1", "\"Iframe\": \"na\"", StringComparison.Ordinal)}, \"Result\": -1}}",
            $"{{\"_id\": {{\"$oid\": \"65a000000000000000000003\"}}, {full.Replace("\"port\": 1", "\"port\": {\"a\": 1}", StringComparison.Ordinal)}, \"Result\": 1}}",
            $"{{\"_id\": {{\"$oid\": \"65a000000000000000000004\"}}, {full.Replace("\"Favicon\": 1, ", "", StringComparison.Ordinal)}, \"Result\": 1}}");

        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Contains("extra", table.Columns);
        var parsed = DatasetParser.Parse(table, schema, requireTarget: true, allowUnknownColumns: true);
        Assert.Equal(3, parsed.Valid.Count);
        Assert.True(double.IsNaN(parsed.Valid.Features[1, schema.FeatureNames.ToList().IndexOf("SFH")]));
        Assert.True(double.IsNaN(parsed.Valid.Features[1, schema.FeatureNames.ToList().IndexOf("Iframe")]));
        Assert.True(double.IsNaN(parsed.Valid.Features[2, schema.FeatureNames.ToList().IndexOf("Favicon")])); // absent field
        var bad = Assert.Single(parsed.Invalid);
        Assert.Equal("document _id 65a000000000000000000003", bad.Location);
        Assert.Equal("port", bad.Problems.Single().Field);
    }

    [Fact]
    public async Task An_empty_collection_gives_an_empty_table()
    {
        var table = await new MongoDataSource(Options()).ReadAsync(CancellationToken.None);
        Assert.Empty(table.Records);
        Assert.Empty(table.Columns);
    }

    [Fact]
    public void Ping_reaches_the_server()
    {
        using var connection = new MongoConnection(Options());
        connection.Ping();
    }

    [Fact]
    public void An_unreachable_server_fails_clearly_within_the_timeout()
    {
        var options = Options() with { ConnectionString = "mongodb://127.0.0.1:1", ServerSelectionTimeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<MongoException>(() => new MongoConnection(options).Ping());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(15u, ex.Domain); // server selection
        Assert.Contains("127.0.0.1:1", ex.Message);
    }

    [Fact]
    public void A_bad_connection_string_is_rejected_without_revealing_the_password()
    {
        var ex = Assert.Throws<MongoException>(() => new MongoConnection(Options() with { ConnectionString = "mongodb://user:topsecret@/?invalid=%%" }));
        Assert.Contains("Invalid MongoDB connection string", ex.Message);
        Assert.DoesNotContain("topsecret", ex.Message);
    }

    [Fact]
    public void An_authentication_error_from_the_server_is_surfaced()
    {
        if (RealServer is not null)
        {
            return; // needs the test server's auth switch
        }

        _server.RequireAuthentication = true;
        var options = Options() with { ConnectionString = _server.ConnectionString.Replace("mongodb://", "mongodb://alice:wrongpass@", StringComparison.Ordinal) + "/?authSource=admin" };
        using var connection = new MongoConnection(options);
        var ex = Assert.Throws<MongoException>(connection.Ping);
        Assert.Contains("Authentication failed", ex.Message);
        Assert.DoesNotContain("wrongpass", ex.Message);
    }

    [Fact]
    public void Options_read_the_seed_variables()
    {
        Assert.Null(MongoOptions.FromEnvironment(_ => null));
        var env = new Dictionary<string, string> { ["MONGO_DB_URL"] = "mongodb+srv://u:p@cluster0.example.net/" };
        var options = MongoOptions.FromEnvironment(k => env.GetValueOrDefault(k))!;
        Assert.Equal("mongodb+srv://u:p@cluster0.example.net/", options.ConnectionString);
        Assert.Equal("mongodb+srv://u:***@cluster0.example.net/", options.Redacted);
        Assert.Equal(("networksecurity", "NetworkData"), (options.Database, options.Collection));
    }
}
