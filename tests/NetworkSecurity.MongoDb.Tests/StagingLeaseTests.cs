using System.Diagnostics;
using MongoDB.Bson;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>Staging collections that pushes killed hard left behind: removed by the next push once their lease shows them dead.</summary>
public sealed class StagingLeaseTests : MongoTestBase
{
    private static RawTable Csv(int rows) =>
        CsvTableReader.Read(new StringReader("x,y\n" + string.Join("\n", Enumerable.Range(0, rows).Select(i => $"{i},0")) + "\n"), "n.csv");

    [Fact]
    public async Task The_next_push_removes_the_staging_collections_of_dead_pushes_and_leaves_a_live_ones()
    {
        // A push-data --drop killed with SIGKILL (or on a machine that died) left its staging collection for good.
        var options = TestServerOptions(batchSize: 10);
        var leases = options.Collection + ".push-data.leases";
        string Staging(char c) => $"{options.Collection}.push-data.{new string(c, 32)}";
        void Lease(char c, string host, int pid, DateTime heartbeat) => Server.Replace(options.Database, leases, new BsonDocument
        {
            ["_id"] = Staging(c), ["owner"] = $"owner-{c}", ["host"] = host, ["pid"] = pid,
            ["process_start"] = new BsonDateTime(DateTime.UtcNow.AddMinutes(-1)), ["heartbeat"] = new BsonDateTime(heartbeat),
        });

        // Killed on another machine: its lease not renewed for 5 minutes.
        Server.Insert(options.Database, Staging('a'), "{\"x\": 1}");
        Lease('a', "elsewhere", 7, DateTime.UtcNow.AddMinutes(-5));
        // Killed on this machine a moment ago: its lease is fresh, but its process is gone.
        int deadPid;
        using (var exited = Process.Start("true")!)
        {
            await exited.WaitForExitAsync();
            deadPid = exited.Id;
        }

        Server.Insert(options.Database, Staging('b'), "{\"x\": 2}");
        Lease('b', Environment.MachineName, deadPid, DateTime.UtcNow);
        // Being loaded now, on another machine: renewed a moment ago.
        Server.Insert(options.Database, Staging('c'), "{\"x\": 3}");
        Lease('c', "elsewhere", 8, DateTime.UtcNow.AddSeconds(-10));
        // Being loaded now, by this very process.
        Server.Insert(options.Database, Staging('f'), "{\"x\": 6}");
        Lease('f', Environment.MachineName, Environment.ProcessId, DateTime.UtcNow);
        Server.Replace(options.Database, leases, Server.Documents(options.Database, leases).Single(l => l["_id"] == Staging('f')).DeepClone().AsBsonDocument
            .Set("process_start", new BsonDateTime(Process.GetCurrentProcess().StartTime.ToUniversalTime())));
        // A lease whose collection is gone already (its remover stopped in between).
        Lease('e', "elsewhere", 9, DateTime.UtcNow.AddMinutes(-10));
        // An earlier version's staging collection, without a lease: named, not removed.
        var legacy = $"{options.Collection}.push-data-{new string('d', 32)}";
        Server.Insert(options.Database, legacy, "{\"x\": 4}");
        var logger = new CapturingLogger();

        var csv = Csv(30);
        var result = await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: false, null, CancellationToken.None, logger);

        Assert.Equal(30, result.CollectionCount);
        Assert.Equal(new[] { options.Collection, Staging('c'), Staging('f'), leases, legacy }.Order(StringComparer.Ordinal), Server.CollectionNames(options.Database));
        Assert.Equal([Staging('c'), Staging('f')], Server.Documents(options.Database, leases).Select(l => l["_id"].AsString).Order(StringComparer.Ordinal));
        var log = string.Join("\n", logger.Lines);
        Assert.Matches($@"Removed {options.Database}\.{Staging('a')}, the staging collection of an earlier push-data --drop that died before it renamed it \(its lease, held by elsewhere pid 7, was last renewed 3[0-9][0-9](\.[0-9])? s ago, more than the 60 s a live push renews it within\)", log);
        Assert.Contains($"Removed {options.Database}.{Staging('b')}, the staging collection of an earlier push-data --drop that died before it renamed it (its process, pid {deadPid} on this host, is gone)", log);
        Assert.Contains($"{options.Database}.{Staging('c')} is being loaded by a push-data on elsewhere (pid 8), whose lease was renewed ", log);
        Assert.Contains($"{options.Database}.{Staging('f')} is being loaded by a push-data on {Environment.MachineName} (pid {Environment.ProcessId})", log);
        Assert.Contains($"{options.Database}.{legacy} is the staging collection of a push-data --drop of an earlier version", log);
        Assert.DoesNotContain(Staging('e'), log); // no collection to remove: its lease goes quietly
    }

    [Fact]
    public async Task A_collection_named_like_a_staging_collection_but_without_a_lease_is_left_alone()
    {
        // A user's own collection that happens to be named <collection>.push-data.<32 hex digits> was dropped by the next
        // push to <collection> as "left by a dead push": push-data only ever makes such a collection under a lease.
        var options = TestServerOptions(batchSize: 10);
        var leases = options.Collection + ".push-data.leases";
        var mine = $"{options.Collection}.push-data.{new string('a', 32)}";
        Server.Insert(options.Database, mine, "{\"kept\": 1}", "{\"kept\": 2}");
        // Beside it, a dead push's staging collection under its lease: that one goes.
        var dead = $"{options.Collection}.push-data.{new string('b', 32)}";
        Server.Insert(options.Database, dead, "{\"x\": 1}");
        Server.Replace(options.Database, leases, new BsonDocument
        {
            ["_id"] = dead, ["owner"] = "owner-b", ["host"] = "elsewhere", ["pid"] = 7,
            ["process_start"] = new BsonDateTime(DateTime.UtcNow.AddMinutes(-10)), ["heartbeat"] = new BsonDateTime(DateTime.UtcNow.AddMinutes(-5)),
        });
        var logger = new CapturingLogger();
        var csv = Csv(12);

        await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None, logger);
        await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: false, null, CancellationToken.None, logger);

        Assert.Equal([1, 2], Server.Documents(options.Database, mine).Select(d => d["kept"].AsInt32));
        Assert.DoesNotContain(dead, Server.CollectionNames(options.Database));
        Assert.Equal(24, Server.Documents(options.Database, options.Collection).Count);
        var log = string.Join("\n", logger.Lines);
        Assert.Contains($"{options.Database}.{mine} is named like a push-data --drop staging collection but has no lease in {leases}, so push-data did not make it (or its lease was deleted by hand): it is left alone", log);
        Assert.DoesNotContain($"Removed {options.Database}.{mine}", log);
        Assert.Contains($"Removed {options.Database}.{dead}", log);
        Assert.DoesNotContain(leases, Server.CollectionNames(options.Database)); // its last lease gone, it goes too
    }

    [Fact]
    public async Task A_collection_named_like_a_staging_collection_is_left_alone_when_no_lease_collection_exists()
    {
        var options = TestServerOptions(batchSize: 10);
        var mine = $"{options.Collection}.push-data.{new string('c', 32)}";
        Server.Insert(options.Database, mine, "{\"kept\": 1}");
        var logger = new CapturingLogger();
        var csv = Csv(5);

        await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: false, null, CancellationToken.None, logger);

        Assert.Equal([1], Server.Documents(options.Database, mine).Select(d => d["kept"].AsInt32));
        Assert.Contains(logger.Lines, l => l.StartsWith($"{options.Database}.{mine} is named like a push-data --drop staging collection but has no lease", StringComparison.Ordinal));
    }

    // A staging collection name as push-data makes it: 16 random hex digits and 16 of their hash with the collection's.
    // The push's one staging collection, while it pushes.
    private string StagingOf(MongoOptions options) =>
        Server.CollectionNames(options.Database).Single(n => n.StartsWith(options.Collection + ".push-data.", StringComparison.Ordinal) && n != options.Collection + ".push-data.leases");

    // The lease collection's documents as the push renames its staging collection (null until then).
    private Func<IReadOnlyList<BsonDocument>?> LeasesAtRename(MongoOptions options)
    {
        IReadOnlyList<BsonDocument>? atRename = null;
        Server.Stall = c =>
        {
            if (c.GetElement(0).Name == "renameCollection")
            {
                atRename = Server.Documents(options.Database, options.Collection + ".push-data.leases");
            }

            return false;
        };
        return () => atRename;
    }

    private static string MadeStagingName(string collection)
    {
        var id = "0123456789abcdef";
        var check = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{collection}\0{id}")))[..16];
        return $"{collection}.push-data.{id}{check}";
    }

    [Fact]
    public async Task A_staging_collection_push_data_made_whose_lease_was_lost_is_leased_again_and_removed_once_that_lease_ages_out()
    {
        // Killed between writing its lease and writing it again after another push dropped the lease collection (found
        // empty) with it: its staging collection stayed for good, each push only warning about it.
        var options = TestServerOptions(batchSize: 10);
        var leases = options.Collection + ".push-data.leases";
        var orphan = MadeStagingName(options.Collection);
        Server.Insert(options.Database, orphan, "{\"x\": 1}");
        var logger = new CapturingLogger();
        var csv = Csv(5);

        await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: false, null, CancellationToken.None, logger);

        Assert.Contains(orphan, Server.CollectionNames(options.Database)); // its push may be alive: not removed yet
        var lease = Assert.Single(Server.Documents(options.Database, leases));
        Assert.Equal(orphan, lease["_id"].AsString);
        Assert.Equal("orphaned", lease["owner"].AsString);
        Assert.Contains(logger.Lines, l => l.StartsWith($"{options.Database}.{orphan} is a push-data --drop staging collection whose lease was lost", StringComparison.Ordinal));

        // No push took it back within the lease's timeout: dead.
        Server.Replace(options.Database, leases, lease.DeepClone().AsBsonDocument.Set("heartbeat", new BsonDateTime(DateTime.UtcNow.AddMinutes(-5))));
        await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: false, null, CancellationToken.None, logger);

        AssertNoStaging(options);
        Assert.Contains(logger.Lines, l => l.StartsWith($"Removed {options.Database}.{orphan}, the staging collection of an earlier push-data --drop that died", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_push_whose_lost_lease_another_push_wrote_as_orphaned_takes_it_back_and_completes()
    {
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        var leases = options.Collection + ".push-data.leases";
        Server.Reject = d =>
        {
            if (d["x"] == 5)
            {
                // Its lease dropped with the lease collection, then another push leasing its staging collection as orphaned.
                var staging = StagingOf(options);
                Server.Drop(options.Database, leases);
                Server.Replace(options.Database, leases, new BsonDocument { ["_id"] = staging, ["owner"] = "orphaned", ["host"] = "?", ["heartbeat"] = new BsonDateTime(DateTime.UtcNow) });
            }

            return null;
        };
        var atRename = LeasesAtRename(options);
        var csv = Csv(25);

        var result = await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None);

        Assert.Equal(25, result.CollectionCount);
        Assert.Equal(Environment.ProcessId, Assert.Single(atRename()!)["pid"].AsInt32);
        AssertNoStaging(options);
    }

    [Fact]
    public async Task A_collection_name_too_long_for_the_staging_collection_is_refused_before_anything_is_sent()
    {
        // 200 bytes fit MongoDB's 255 for networksecurity_tests.<name>, but not with .push-data.<32 hex digits>: the
        // server refused the staging collection's create with its own words.
        var options = TestServerOptions() with { Collection = new string('c', 200) };
        var csv = Csv(5);

        var ex = await Assert.ThrowsAsync<NetworkSecurity.Pipeline.PipelineException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None));

        Assert.Equal($"push-data --drop cannot replace networksecurity_tests.{options.Collection}: its staging collection, <collection>.push-data.<32 hex digits>, would make a namespace of 265 bytes, and MongoDB allows 255. "
            + "Use a collection name of at most 190 bytes (MONGODB_COLLECTION) or push without --drop. Nothing was sent.", ex.Message);
        Assert.Empty(Server.Received);
    }

    [Theory]
    [InlineData("NetworkData.push-data.leases", false)]
    [InlineData("NetworkData.push-data.leases", true)]
    [InlineData("NetworkData.push-data.0123456789abcdef0123456789abcdef", false)]
    public async Task A_push_into_another_collections_lease_or_staging_collection_is_refused_before_anything_is_sent(string collection, bool drop)
    {
        // Pushed into NetworkData's lease collection, the documents sat among the leases (with --drop, renamed over them,
        // every live push's lease lost), and pushes to NetworkData then dropped it as "empty" with them.
        var options = TestServerOptions() with { Collection = collection };
        var csv = Csv(5);

        var ex = await Assert.ThrowsAsync<NetworkSecurity.Pipeline.PipelineException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop, null, CancellationToken.None));

        Assert.Equal($"MONGODB_COLLECTION '{collection}' is reserved: <collection>.push-data.leases and <collection>.push-data.<32 hex digits> are the lease and staging collections push-data --drop keeps for {options.Database}.NetworkData, "
            + "and documents pushed into them would break the pushes to it. Choose another collection name. Nothing was sent.", ex.Message);
        Assert.Empty(Server.Received);
    }

    [Fact]
    public async Task A_push_with_drop_holds_a_lease_while_it_loads_and_gives_it_back()
    {
        var options = TestServerOptions(batchSize: 10);
        var leases = options.Collection + ".push-data.leases";
        BsonDocument? seen = null;
        Server.Reject = d =>
        {
            seen ??= Server.Documents(options.Database, leases).SingleOrDefault();
            return null;
        };
        var csv = Csv(25);

        await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None);

        Assert.NotNull(seen);
        Assert.Matches($@"^{options.Collection}\.push-data\.[0-9a-f]{{32}}$", seen["_id"].AsString);
        Assert.Equal(Environment.MachineName, seen["host"].AsString);
        Assert.Equal(Environment.ProcessId, seen["pid"].AsInt32);
        Assert.True(seen["heartbeat"].IsValidDateTime);
        Assert.Equal(25, Server.Documents(options.Database, options.Collection).Count);
        AssertNoStaging(options);
    }

    [Fact]
    public async Task A_push_whose_lease_collection_an_ending_push_dropped_writes_its_lease_again_and_completes()
    {
        // Each push drops the lease collection it leaves empty (it stayed, empty, for good); another push's lease,
        // written between that push's count and its drop, went with it. Its staging collection is the very one it made
        // (same UUID), so the lease was not taken by a push that found it dead: it is written again.
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        var leases = options.Collection + ".push-data.leases";
        Server.Reject = d =>
        {
            if (d["x"] == 5)
            {
                Server.Drop(options.Database, leases);
            }

            return null;
        };
        var atRename = LeasesAtRename(options);
        var csv = Csv(25);

        var result = await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None);

        Assert.Equal(25, result.CollectionCount);
        Assert.Equal(Enumerable.Range(0, 25), Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        AssertNoStaging(options);
        var lease = Assert.Single(atRename()!); // written again by the check before the rename
        Assert.Equal(Environment.ProcessId, lease["pid"].AsInt32);
        Assert.Matches($@"^{options.Collection}\.push-data\.[0-9a-f]{{32}}$", lease["_id"].AsString);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_collection_uuids_a_push_whose_lease_collection_an_ending_push_dropped_still_completes(bool withIndex)
    {
        // A server that lists no collection UUIDs: the push could not tell its staging collection was the very one it made,
        // so a lease dropped with the lease collection another push left empty failed the push. The collection's options,
        // indexes and the documents stored in it so far tell it instead.
        var options = TestServerOptions(batchSize: 10);
        Server.CollectionUuids = false;
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        if (withIndex)
        {
            Server.CreateIndex(options.Database, options.Collection, new BsonDocument { ["key"] = new BsonDocument("x", 1), ["name"] = "x_1" });
        }

        var leases = options.Collection + ".push-data.leases";
        Server.Reject = d =>
        {
            if (d["x"] == 15)
            {
                Server.Drop(options.Database, leases);
            }

            return null;
        };
        var csv = Csv(25);

        var result = await MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None);

        Assert.Equal(25, result.CollectionCount);
        Assert.Equal(Enumerable.Range(0, 25), Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        Assert.Contains("renameCollection", Server.Commands);
        AssertNoStaging(options);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_push_whose_lease_and_staging_collection_were_both_removed_does_not_write_its_lease_again(bool collectionUuids)
    {
        // Frozen past its lease's timeout, the push's staging collection and then its lease were removed by another push;
        // its inserts since made the collection again (another UUID), partly: never renamed over the collection. Without
        // UUIDs the fallback identity must tell the same (the made-again collection holds only the later documents).
        var options = TestServerOptions(batchSize: 10);
        Server.CollectionUuids = collectionUuids;
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        var leases = options.Collection + ".push-data.leases";
        Server.Reject = d =>
        {
            if (d["x"] == 15)
            {
                Server.Drop(options.Database, StagingOf(options));
                Server.Drop(options.Database, leases);
            }

            return null;
        };
        var csv = Csv(25);

        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None));

        Assert.Contains("was taken by another push-data", ex.Message);
        Assert.Equal([-1], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        Assert.DoesNotContain("renameCollection", Server.Commands);
        AssertNoStaging(options);
    }

    [Fact]
    public async Task A_push_whose_lease_another_push_took_as_dead_does_not_rename_over_the_collection()
    {
        // Frozen past its lease's timeout (a suspended VM), the push's staging collection was removed by another push as a
        // dead one's; its next insert made the collection again, partly, and the rename put that part in place of all.
        var options = TestServerOptions(batchSize: 10);
        Server.Insert(options.Database, options.Collection, "{\"x\": -1}");
        var leases = options.Collection + ".push-data.leases";
        Server.Reject = d =>
        {
            if (d["x"] == 15)
            {
                var lease = Server.Documents(options.Database, leases).Single().DeepClone().AsBsonDocument;
                Server.Replace(options.Database, leases, lease.Set("owner", "removed by pid 1 on elsewhere"));
            }

            return null;
        };
        var csv = Csv(25);

        var ex = await Assert.ThrowsAsync<MongoException>(() => MongoDataLoader.PushAsync(options, csv.Columns, csv.Records, drop: true, null, CancellationToken.None));

        var staging = $"{options.Database}.{Assert.Single(Server.Received, c => c.GetElement(0).Name == "create")["create"].AsString}";
        Assert.Equal([-1], Server.Documents(options.Database, options.Collection).Select(d => d["x"].AsInt32));
        Assert.StartsWith($"The lease of the staging collection {options.Database}.{options.Collection}.push-data.", ex.Message);
        Assert.Contains("was taken by another push-data, which found it not renewed for 60 s", ex.Message);
        Assert.EndsWith("is unchanged: the documents went to the staging collection " + staging + ", which was removed.", ex.Message);
        Assert.DoesNotContain(staging[(options.Database.Length + 1)..], Server.CollectionNames(options.Database));
        Assert.DoesNotContain("renameCollection", Server.Commands);
    }
}
