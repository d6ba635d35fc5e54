using System.Diagnostics;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>Unreachable servers, DNS failures, refused credentials, bad URIs: clear errors, in time, no password shown.</summary>
public sealed class FailureTests : MongoTestBase
{
    // Long enough that a test host starved by the other test projects still answers the commands that are not stalled:
    // at 1 s an ordinary insert timed out on a loaded CI machine, and the stall then fell on another batch.
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_unreachable_server_fails_clearly_within_the_timeout()
    {
        var options = TestServerOptions() with { ConnectionString = "mongodb://alice:s3cret-pw@127.0.0.1:1/?authSource=admin", ServerSelectionTimeout = TimeSpan.FromSeconds(1.5) };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n"), "a.csv"), drop: true, CancellationToken.None));
        clock.Stop();
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(15)); // upper bound: far below a 30 s default, with room for a loaded host
        Assert.Equal(MongoFailure.Unreachable, ex.Failure);
        Assert.StartsWith($"MongoDB ping on networksecurity_tests.{options.Collection} at mongodb://alice:***@127.0.0.1:1/?authSource=admin failed: no MongoDB server answered within 1.5 s (Connection refused", ex.Message);
        Assert.DoesNotContain("s3cret-pw", ex.Message);
    }

    [Fact]
    public async Task Reading_from_an_unreachable_server_is_a_pipeline_error_naming_the_server()
    {
        var options = TestServerOptions() with { ConnectionString = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000", ServerSelectionTimeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}: the URI's serverSelectionTimeoutMS wins");
        Assert.Contains("at mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000 failed: no MongoDB server answered within 1 s (Connection refused", ex.Message);
    }

    [Fact]
    public async Task A_server_that_accepts_connections_but_never_answers_fails_within_the_timeout()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(); // the kernel completes the TCP handshake; nothing ever answers the driver's hello
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var options = TestServerOptions() with { ConnectionString = $"mongodb://127.0.0.1:{port}", ServerSelectionTimeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(15));
        Assert.Equal(MongoFailure.Unreachable, Assert.IsType<MongoException>(ex.InnerException).Failure);
        Assert.Contains($"at mongodb://127.0.0.1:{port} failed: no MongoDB server answered within 2 s (", ex.Message);
    }

    [Fact]
    public async Task A_server_that_stops_answering_mid_read_fails_the_read_clearly()
    {
        var options = TestServerOptions(batchSize: 7) with { SocketTimeout = StallTimeout };
        Server.Insert(options.Database, options.Collection, [.. Enumerable.Range(0, 50).Select(i => $"{{\"x\": {i}}}")]);
        Server.Stall = c => c.GetElement(0).Name == "getMore" && Server.Commands.Count(n => n == "getMore") > 2;
        // The guard only turns the former hang for ever into a failure; the product's bound is StallTimeout.
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(MongoFailure.Timeout, Assert.IsType<MongoException>(ex.InnerException).Failure);
        Assert.StartsWith($"MongoDB find on networksecurity_tests.{options.Collection} at {Server.ConnectionString} failed: the server did not answer within 5 s (socketTimeoutMS).", ex.Message);
    }

    [Fact]
    public async Task A_server_that_stops_answering_mid_insert_fails_the_push_saying_the_batch_may_be_stored()
    {
        var options = TestServerOptions(batchSize: 10) with { SocketTimeout = StallTimeout };
        Server.Stall = c => c.GetElement(0).Name == "insert" && Server.Commands.Count(n => n == "insert") > 2;
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv, drop: false, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(MongoFailure.Timeout, ex.Failure);
        Assert.StartsWith($"MongoDB insert on networksecurity_tests.{options.Collection} at {Server.ConnectionString} failed: the server did not answer within 5 s (socketTimeoutMS).", ex.Message);
        // The stalled batch was stored though never acknowledged: the message must not say it was not.
        Assert.Equal(30, Server.Documents(options.Database, options.Collection).Count);
        Assert.EndsWith("(20 documents were stored before, records 20–29 were sent but not acknowledged, so some or all of them may be stored (push-data --drop loads the file again from scratch).)", ex.Message);
    }

    [Fact]
    public async Task A_push_stopped_while_a_batch_is_on_its_way_says_that_batch_may_be_stored()
    {
        // The CLI said "stopped after 20 of 50 records were stored" while the collection held 30: the server stored the
        // batch it was sent, whatever the client then did.
        var options = TestServerOptions(batchSize: 10);
        Server.Stall = c => c.GetElement(0).Name == "insert" && Server.Commands.Count(n => n == "insert") > 2;
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        using var stop = new CancellationTokenSource();
        var push = MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: false, null, stop.Token);
        while (Server.Commands.Count(n => n == "insert") < 3 && !push.IsCompleted)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync(); // as Ctrl+C does, with the third batch awaited

        var ex = await Assert.ThrowsAsync<PushStoppedException>(() => push);
        Assert.Equal(30, Server.Documents(options.Database, options.Collection).Count);
        Assert.Equal((20L, 20L, 29L), (ex.Stored, ex.FirstUnacknowledged, ex.LastUnacknowledged));
        Assert.Equal("push-data was stopped after 20 documents were stored, while records 20–29 were sent but not acknowledged: some or all of them may be stored too.", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_push_with_unacknowledged_writes_is_refused_before_anything_is_sent(bool drop)
    {
        // w=0: the server's rejections never came back (a validator's refusals went unreported: "Inserted 5"), and
        // --drop's rename, sent on another connection, could overtake the last inserts into the staging collection.
        var options = TestServerOptions() with { ConnectionString = $"mongodb://u:s3cr3t@127.0.0.1:{Server.Port}/?w=0" };
        Server.Users["u"] = "s3cr3t";
        Server.Reject = _ => "refused";
        var csv = CsvTableReader.Read(new StringReader("x,y\n1,0\n2,0\n"), "n.csv");

        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv, drop, CancellationToken.None));

        Assert.Equal(MongoFailure.InvalidConnectionString, ex.Failure);
        Assert.Equal($"push-data needs acknowledged writes, and MONGODB_URL mongodb://u:***@127.0.0.1:{Server.Port}/?w=0 asks for none (w=0): it could not tell which documents the server stored or rejected, nor rename a complete staging collection with --drop. Set w=1 (or more), or remove w=0. Nothing was sent.", ex.Message);
        // The driver's monitoring may have said hello; no command of the push was sent.
        Assert.All(Server.Commands, c => Assert.Contains(c, new[] { "isMaster", "ismaster", "hello", "saslStart", "saslContinue" }));
    }

    [Fact]
    public async Task A_write_concern_error_says_the_batch_was_stored_unconfirmed()
    {
        // w=3 on a single node: the server stores the documents, then reports that the write concern cannot be met.
        var options = TestServerOptions(batchSize: 10);
        Server.WriteConcernError = _ => new MongoDB.Bson.BsonDocument { ["code"] = 100, ["codeName"] = "UnsatisfiableWriteConcern", ["errmsg"] = "Not enough data-bearing nodes" };
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 25).Select(i => $"{i},0")) + "\n"), "n.csv");
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv, drop: false, CancellationToken.None));
        Assert.Equal(10, Server.Documents(options.Database, options.Collection).Count);
        Assert.Contains("Not enough data-bearing nodes", ex.Message);
        // It said "records 0–9 were not": a re-run without --drop then stored them twice.
        Assert.EndsWith("(0 documents were stored before, records 0–9 were sent but not acknowledged, so some or all of them may be stored (push-data --drop loads the file again from scratch).)", ex.Message);
    }

    [Fact]
    public async Task A_push_with_drop_that_fails_midway_leaves_the_collection_as_it_was()
    {
        // --drop dropped the collection first: a load that failed after that left a part of the file, the old
        // documents lost.
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}", "{\"x\": -2}");
        Server.WriteConcernError = c => c.GetElement(0).Name == "insert" && Server.Commands.Count(n => n == "insert") > 2
            ? new MongoDB.Bson.BsonDocument { ["code"] = 100, ["codeName"] = "UnsatisfiableWriteConcern", ["errmsg"] = "Not enough data-bearing nodes" }
            : null;
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv, drop: true, CancellationToken.None));
        Assert.Equal([-1, -2], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        AssertNoStaging(options);
        Assert.Contains("Not enough data-bearing nodes", ex.Message);
        Assert.Matches($@"{options.Database}\.{options.Collection} is unchanged: the documents went to the staging collection {options.Database}\.{options.Collection}\.push-data\.[0-9a-f]{{32}}, which was removed\.$", ex.Message);
    }

    [Fact]
    public async Task A_push_with_drop_stopped_midway_leaves_the_collection_as_it_was()
    {
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        using var stop = new CancellationTokenSource();
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        var progress = new SynchronousProgress<PushProgress>(p =>
        {
            if (p.Inserted >= 20)
            {
                stop.Cancel(); // as Ctrl+C does, between batches
            }
        });
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, progress, stop.Token));
        Assert.Equal([-1], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        AssertNoStaging(options);
        Assert.StartsWith($"push-data was stopped. {options.Database}.{options.Collection} is unchanged: the documents went to the staging collection ", ex.Message);
        Assert.EndsWith(", which was removed.", ex.Message);
    }

    [Fact]
    public async Task A_push_with_drop_stopped_while_its_staging_collection_is_made_says_the_collection_is_unchanged()
    {
        // Ctrl+C while the create was awaited: the CLI logged only "The operation was canceled."
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        Server.Stall = c => c.GetElement(0).Name == "create";
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},0")) + "\n"), "n.csv");
        using var stop = new CancellationTokenSource();
        var push = MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, stop.Token);
        while (!Server.Commands.Contains("create") && !push.IsCompleted)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => push);
        Assert.Equal($"push-data was stopped before any document was sent: {options.Database}.{options.Collection} is unchanged.", ex.Message);
        Assert.Equal([-1], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        Assert.DoesNotContain("insert", Server.Commands);
        AssertNoStaging(options);
    }

    [Fact]
    public async Task A_push_with_drop_stopped_while_the_rename_is_awaited_does_not_claim_the_collection_is_unchanged()
    {
        // Ctrl+C while the rename was on its way: the server renamed, yet the message said the collection was unchanged
        // and its documents removed with the staging collection.
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        using var stop = new CancellationTokenSource();
        Server.Stall = c =>
        {
            if (c.GetElement(0).Name != "renameCollection")
            {
                return false;
            }

            _ = Task.Run(stop.Cancel); // the rename is done on the server, its answer not yet sent
            return true;
        };
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 25).Select(i => $"{i},0")) + "\n"), "n.csv");
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, stop.Token).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(25, Server.Documents(options.Database, options.Collection).Count); // renamed: the new documents
        Assert.DoesNotContain("is unchanged:", ex.Message);
        Assert.DoesNotContain("which was removed", ex.Message);
        Assert.Matches($@"^push-data was stopped while the rename of {options.Database}\.{options.Collection}\.push-data\.[0-9a-f]{{32}} to {options.Collection} was awaited: ", ex.Message);
        Assert.Contains("otherwise the load is complete", ex.Message);
    }

    [Fact]
    public async Task A_push_with_drop_stopped_after_the_rename_says_the_load_is_complete()
    {
        // Ctrl+C while the final count was awaited: the load was complete, yet only "The operation was canceled." was said.
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        using var stop = new CancellationTokenSource();
        Server.Stall = c =>
        {
            if (c.GetElement(0).Name != "aggregate")
            {
                return false;
            }

            _ = Task.Run(stop.Cancel);
            return true;
        };
        var csv = CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, 25).Select(i => $"{i},0")) + "\n"), "n.csv");
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, stop.Token).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(25, Server.Documents(options.Database, options.Collection).Count);
        Assert.Equal($"push-data was stopped after the load was complete: {options.Database}.{options.Collection} holds the 25 documents stored; only the final count was not taken.", ex.Message);
    }

    [Fact]
    public async Task A_push_with_drop_whose_file_fails_midway_keeps_the_failure_a_pipeline_error()
    {
        // The file growing (or a record past the size limit) while it is streamed is an expected failure; with --drop it
        // came out as an InvalidOperationException, which the CLI reports as "push-data failed unexpectedly".
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        IEnumerable<RawRecord> Records()
        {
            for (var i = 0; i < 25; i++)
            {
                yield return new RawRecord($"line {i + 2}", [i.ToString(System.Globalization.CultureInfo.InvariantCulture), "0"]);
            }

            throw new PipelineException("Data file 'n.csv' grew while it was read.");
        }

        var ex = await Assert.ThrowsAsync<PipelineException>(() => MongoDataLoader.PushAsync(options, ["x", "y"], Records(), drop: true, null, CancellationToken.None));
        Assert.StartsWith("Data file 'n.csv' grew while it was read. ", ex.Message);
        Assert.EndsWith(", which was removed.", ex.Message);
        Assert.Equal([-1], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
    }

    [Fact]
    public async Task A_push_with_drop_refuses_to_replace_a_view()
    {
        var options = TestServerOptions();
        Server.Create(options.Database, options.Collection, new MongoDB.Bson.BsonDocument { ["viewOn"] = "raw", ["pipeline"] = new MongoDB.Bson.BsonArray() }, type: "view");
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n"), "a.csv"), drop: true, CancellationToken.None));
        Assert.Equal($"{options.Database}.{options.Collection} at {Server.ConnectionString} is a view, not a collection: push-data --drop replaces only collections. Drop it yourself or choose another collection (MONGODB_COLLECTION).", ex.Message);
        AssertNoStaging(options);
        Assert.Equal("view", Server.Info(options.Database, options.Collection)?.Type);
    }

    [Fact]
    public async Task A_socket_timeout_in_the_uri_wins_over_the_default()
    {
        var options = TestServerOptions() with { ConnectionString = Server.ConnectionString + "/?socketTimeoutMS=4500", SocketTimeout = TimeSpan.FromSeconds(30) };
        Server.Insert(options.Database, options.Collection, "{\"x\": 1}");
        Server.Stall = c => c.GetElement(0).Name == "find";
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("failed: the server did not answer within 4.5 s (socketTimeoutMS).", ex.Message);
    }

    [Fact]
    public async Task A_replica_set_name_the_server_does_not_have_is_said_as_such()
    {
        // The standalone test server answers, and the driver drops it from the replica set's view: the message said
        // "no MongoDB server answered within 2 s (the servers were Servers : [])".
        var options = TestServerOptions() with { ConnectionString = Server.ConnectionString + "/?replicaSet=rs0", ServerSelectionTimeout = TimeSpan.FromSeconds(2) };
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n"), "a.csv"), drop: true, CancellationToken.None));
        Assert.Equal(MongoFailure.Unreachable, ex.Failure);
        Assert.Equal($"MongoDB ping on networksecurity_tests.{options.Collection} at {options.ConnectionString} failed: no member of replica set 'rs0' was found within 2 s: the hosts in MONGODB_URL did not answer, or answered as something else (a standalone server, a member of another replica set). Check the hosts and replicaSet in MONGODB_URL.", ex.Message);
        Assert.Contains("isMaster", Server.Commands); // it did answer
    }

    [Fact]
    public async Task A_server_still_connecting_when_selection_times_out_is_named_not_dumped()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(); // accepts, never answers: with a longer connectTimeoutMS no handshake has failed yet at 2 s
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var options = TestServerOptions() with { ConnectionString = $"mongodb://127.0.0.1:{port}/?connectTimeoutMS=30000", ServerSelectionTimeout = TimeSpan.FromSeconds(2) };
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None));
        // It showed the driver's cluster view cut off mid-way: "(the servers were Servers : [{ ServerId: ... Type: )".
        Assert.Contains($"failed: no MongoDB server answered within 2 s (127.0.0.1:{port} accepted no connection or completed no MongoDB handshake: a host that drops packets, a TLS setting that does not match the server's, or another service on that port).", ex.Message);
    }

    [Fact]
    public async Task A_mongodb_srv_host_that_does_not_resolve_is_a_clear_dns_error()
    {
        // .invalid never resolves (RFC 6761). The lookup goes to a DNS server on 127.0.0.1 that answers NXDOMAIN, so the
        // test sends nothing off the machine.
        using var dns = new LoopbackDnsServer();
        var options = TestServerOptions() with { ConnectionString = "mongodb+srv://alice:s3cret-pw@cluster0.networksecurity-tests.invalid/?retryWrites=true", ServerSelectionTimeout = TimeSpan.FromSeconds(5), DnsServer = dns.EndPoint };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoConnection.OpenAsync(options, CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.Equal(MongoFailure.DnsResolution, ex.Failure);
        Assert.StartsWith("DNS lookup of the SRV record _mongodb._tcp.cluster0.networksecurity-tests.invalid (from MONGODB_URL mongodb+srv://alice:***@cluster0.networksecurity-tests.invalid/?retryWrites=true) ", ex.Message);
        Assert.DoesNotContain("s3cret-pw", ex.Message);
        Assert.Contains("Non-Existent Domain", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(dns.Queries > 0, "the lookup did not reach the loopback DNS server");
    }

    [Fact]
    public async Task Refused_credentials_are_an_authentication_error_without_the_password()
    {
        Server.RequireAuthentication = true;
        Server.Users["alice"] = "right-password";
        var options = TestServerOptions() with { ConnectionString = Server.ConnectionString.Replace("mongodb://", "mongodb://alice:wr%40ngpass@", StringComparison.Ordinal) + "/?authSource=admin" };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PipelineException>(() => new MongoDataSource(options).ReadAsync(CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        var inner = Assert.IsType<MongoException>(ex.InnerException);
        Assert.Equal(MongoFailure.Authentication, inner.Failure);
        Assert.Contains("the server refused the credentials", ex.Message);
        Assert.Contains("Check the user name, password and authSource in MONGODB_URL.", ex.Message);
        Assert.DoesNotContain("wr%40ngpass", ex.ToString());
        Assert.DoesNotContain("wr@ngpass", ex.Message);
        Assert.Contains("saslContinue", Server.Commands); // the proof was checked, and failed
    }

    [Fact]
    public async Task The_right_credentials_are_accepted_through_scram_sha_256()
    {
        Server.RequireAuthentication = true;
        Server.Users["alice"] = "p@ss:word/1";
        var options = TestServerOptions() with { ConnectionString = Server.ConnectionString.Replace("mongodb://", "mongodb://alice:p%40ss%3Aword%2F1@", StringComparison.Ordinal) + "/?authSource=admin&authMechanism=SCRAM-SHA-256" };
        var pushed = await MongoDataLoader.PushAsync(options, CsvTableReader.Read(new StringReader("a,b\n1,2\n"), "a.csv"), drop: true, CancellationToken.None);
        Assert.Equal(1, pushed.CollectionCount);
        var table = await new MongoDataSource(options).ReadAsync(CancellationToken.None);
        Assert.Equal(new string?[] { "1", "2" }, table.Records.Single().Values.AsEnumerable());
    }

    [Fact]
    public async Task Missing_credentials_are_reported_as_such()
    {
        Server.RequireAuthentication = true;
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(TestServerOptions(), CsvTableReader.Read(new StringReader("a,b\n1,2\n"), "a.csv"), drop: false, CancellationToken.None));
        Assert.Equal(MongoFailure.Authentication, ex.Failure);
        Assert.Contains("was refused: Unauthorized (13): command insert requires authentication.", ex.Message);
        Assert.Contains("0 documents were stored before, records 0–0 were not.", ex.Message);
    }

    [Fact]
    public async Task A_bad_connection_string_is_rejected_without_revealing_the_password()
    {
        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoConnection.OpenAsync(TestServerOptions() with { ConnectionString = "mongodb://user:topsecret@host/?w=banana&tls=maybe" }, CancellationToken.None));
        Assert.Equal(MongoFailure.InvalidConnectionString, ex.Failure);
        Assert.StartsWith("Invalid MongoDB connection string 'mongodb://user:***@host/?w=banana&tls=maybe': ", ex.Message);
        Assert.DoesNotContain("topsecret", ex.Message);
    }

    [Fact]
    public async Task The_data_source_logs_name_the_server_without_the_password()
    {
        Server.Users["bob"] = "hunter2";
        var options = TestServerOptions() with { ConnectionString = Server.ConnectionString.Replace("mongodb://", "mongodb://bob:hunter2@", StringComparison.Ordinal) };
        Server.Insert(options.Database, options.Collection, "{\"a\": 1}");
        var logger = new CapturingLogger();
        var source = new MongoDataSource(options, logger: logger);
        await source.ReadAsync(CancellationToken.None);
        Assert.Equal($"mongodb://bob:***@127.0.0.1:{Server.Port}/{options.Database}.{options.Collection}", source.Description);
        Assert.Contains(logger.Lines, l => l.StartsWith("Read 1 documents (1 fields) from mongodb://bob:***@127.0.0.1:", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Lines, l => l.Contains("hunter2", StringComparison.Ordinal));
    }
}
