using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using MongoDB.Bson;
using MongoDB.Driver;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// The lease of one push-data --drop staging collection: a document in <c>&lt;collection&gt;.push-data.leases</c> (dropped
/// when its last lease goes), taken before the staging collection is made and removed once it is gone, naming the host and process that loads it, with a
/// heartbeat (the server's clock) renewed while the load runs. A push killed hard (SIGKILL, a crash, a lost machine)
/// leaves its staging collection and its lease; <see cref="RemoveDeadAsync"/>, at the start of the next push, removes
/// both once the lease shows its push dead, and never one a live push renews.
/// </summary>
internal sealed partial class StagingLease : IAsyncDisposable
{
    private const string Infix = ".push-data.";
    private static readonly TimeSpan ReleaseTime = TimeSpan.FromSeconds(5);
    private readonly MongoConnection _connection;
    private readonly string _owner = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private Task _renewing = Task.CompletedTask;
    private BsonValue? _stagingUuid;
    // Without collection UUIDs (older servers, some wire-compatible stores): the staging collection's options and index
    // count as made, and the documents stored in it so far, which one made again by later inserts lacks.
    private (BsonDocument Options, int Indexes)? _stagingShape;
    private long _stored;

    private StagingLease(MongoConnection connection, string staging)
    {
        _connection = connection;
        Staging = staging;
    }

    public string Staging { get; }

    /// <summary>Cancelled once another push took this lease as dead (a renewal found it no longer ours).</summary>
    public CancellationToken Lost => _lost.Token;

    // The lease a push writes for a staging collection found without one (its own lost with the lease collection another
    // push dropped as empty, and it killed before it wrote it again): its push, if alive, takes it back at its next
    // renewal; otherwise it ages out and the collection is removed as any dead push's.
    private const string Orphaned = "orphaned";

    // 16 random hex digits and 16 of a hash of them with the collection's name: a staging collection push-data made
    // tells itself from a user's collection named alike (a chance of 2^-64), even without its lease.
    public static string NewStagingName(string collection)
    {
        var id = Guid.NewGuid().ToString("N")[..16];
        return $"{collection}{Infix}{id}{Check(collection, id)}";
    }

    private static string Check(string collection, string id) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{collection}\0{id}")))[..16];

    private static bool MadeByPushData(string collection, string hex) => hex[16..] == Check(collection, hex[..16]);

    /// <summary>Why the staging collection's namespace would be too long for MongoDB, or null.</summary>
    public static string? NamespaceProblem(MongoOptions options)
    {
        var staging = NewStagingName(options.Collection);
        var bytes = System.Text.Encoding.UTF8.GetByteCount($"{options.Database}.{staging}");
        return bytes <= MongoOptions.MaxNamespaceBytes ? null
            : $"push-data --drop cannot replace {options.Database}.{options.Collection}: its staging collection, <collection>{Infix}<32 hex digits>, would make a namespace of {bytes} bytes, and MongoDB allows {MongoOptions.MaxNamespaceBytes}. "
              + $"Use a collection name of at most {System.Text.Encoding.UTF8.GetByteCount(options.Collection) - (bytes - MongoOptions.MaxNamespaceBytes)} bytes (MONGODB_COLLECTION) or push without --drop. Nothing was sent.";
    }

    /// <summary>
    /// Why push-data must not write to the collection: it is one push-data keeps for itself (another collection's lease
    /// collection, whose leases a push into it or a rename over it lost, or its staging collection), or null.
    /// </summary>
    public static string? ReservedProblem(MongoOptions options)
    {
        var match = ReservedName().Match(options.Collection);
        return !match.Success ? null
            : $"MONGODB_COLLECTION '{options.Collection}' is reserved: <collection>{Infix}leases and <collection>{Infix}<32 hex digits> are the lease and staging collections push-data --drop keeps for {options.Database}.{match.Groups[1].Value}, and documents pushed into them would break the pushes to it. Choose another collection name. Nothing was sent.";
    }

    private static IMongoCollection<BsonDocument> Leases(MongoConnection connection) =>
        connection.Database.GetCollection<BsonDocument>(connection.Options.Collection + Infix + "leases");

    public static async Task<StagingLease> TakeAsync(MongoConnection connection, string staging, CancellationToken cancellationToken)
    {
        var lease = new StagingLease(connection, staging);
        await lease.WriteAsync(Builders<BsonDocument>.Filter.Eq("_id", staging), cancellationToken).ConfigureAwait(false);
        lease._renewing = lease.RenewEveryAsync(connection.Options.StagingLeaseTimeout / 4);
        return lease;
    }

    private async Task WriteAsync(FilterDefinition<BsonDocument> filter, CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        var update = Builders<BsonDocument>.Update
            .Set("owner", _owner)
            .Set("host", Environment.MachineName)
            .Set("pid", Environment.ProcessId)
            .Set("process_start", new BsonDateTime(self.StartTime.ToUniversalTime()))
            .CurrentDate("heartbeat");
        await _connection.RunAsync("update (staging lease)", t => Leases(_connection).UpdateOneAsync(filter, update, new UpdateOptions { IsUpsert = true }, t), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Notes which staging collection this lease covers (its UUID, once made) and checks the lease still stands: a push
    /// that ended meanwhile may have dropped the lease collection it found empty, this lease with it.
    /// </summary>
    public async Task PinAsync(CancellationToken cancellationToken)
    {
        var made = await DescribeAsync(cancellationToken).ConfigureAwait(false);
        _stagingUuid = made?.Uuid;
        if (made is { Uuid: null } && await IndexCountAsync(cancellationToken).ConfigureAwait(false) is { } indexes)
        {
            _stagingShape = (made.Value.Options, indexes);
        }

        await RenewAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Notes how many documents the staging collection holds by now: all of them, while it is the one made.</summary>
    public void NoteStored(long stored) => Interlocked.Exchange(ref _stored, stored);

    private async Task<(BsonValue? Uuid, BsonDocument Options)?> DescribeAsync(CancellationToken cancellationToken) =>
        await _connection.RunAsync("listCollections", async t =>
        {
            using var cursor = await _connection.Database.ListCollectionsAsync(new ListCollectionsOptions { Filter = new BsonDocument("name", Staging) }, t).ConfigureAwait(false);
            var found = await cursor.FirstOrDefaultAsync(t).ConfigureAwait(false);
            return found is null ? ((BsonValue? Uuid, BsonDocument Options)?)null
                : (found.GetValue("info", BsonNull.Value) is BsonDocument info && info.GetValue("uuid", BsonNull.Value) is { IsBsonNull: false } uuid ? uuid : null,
                    found.GetValue("options", new BsonDocument()) as BsonDocument ?? []);
        }, cancellationToken).ConfigureAwait(false);

    private async Task<int?> IndexCountAsync(CancellationToken cancellationToken) =>
        await _connection.RunAsync("listIndexes", async t =>
        {
            using var cursor = await _connection.Database.GetCollection<BsonDocument>(Staging).Indexes.ListAsync(t).ConfigureAwait(false);
            return (int?)(await cursor.ToListAsync(t).ConfigureAwait(false)).Count;
        }, cancellationToken).ConfigureAwait(false);

    // Still the staging collection this push made: the same UUID; without UUIDs, the same options and indexes and at least
    // every document stored in it (one dropped by another push after a document was stored and made again by the inserts
    // since holds fewer; one dropped before lacks the target's options or indexes, or holds none of ours yet).
    private async Task<bool> StillMadeAsync(CancellationToken cancellationToken)
    {
        var stored = Interlocked.Read(ref _stored); // read first: inserts meanwhile only add to the collection
        var now = await DescribeAsync(cancellationToken).ConfigureAwait(false);
        if (_stagingUuid is not null)
        {
            return _stagingUuid.Equals(now?.Uuid);
        }

        if (_stagingShape is not { } made || now is not { } found || stored == 0 || !made.Options.Equals(found.Options)
            || await IndexCountAsync(cancellationToken).ConfigureAwait(false) != made.Indexes)
        {
            return false;
        }

        var count = await _connection.RunAsync("count (staging collection)", t => _connection.Database.GetCollection<BsonDocument>(Staging)
            .CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return count >= stored;
    }

    /// <summary>Renews the heartbeat; fails when another push took the lease (its staging collection then removed).</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var renewed = await _connection.RunAsync("update (staging lease)", t => Leases(_connection).UpdateOneAsync(
            Builders<BsonDocument>.Filter.Eq("_id", Staging) & Builders<BsonDocument>.Filter.Eq("owner", _owner),
            Builders<BsonDocument>.Update.CurrentDate("heartbeat"), cancellationToken: t), cancellationToken).ConfigureAwait(false);
        if (renewed.IsAcknowledged && renewed.MatchedCount == 0 && !await RetakeAsync(cancellationToken).ConfigureAwait(false))
        {
            await _lost.CancelAsync().ConfigureAwait(false);
            throw new MongoException(MongoFailure.Server,
                $"The lease of the staging collection {_connection.Options.Database}.{Staging} was taken by another push-data, which found it not renewed for {Seconds(_connection.Options.StagingLeaseTimeout)} and removed the collection as left by a dead push.");
        }
    }

    // The lease gone without a trace while the staging collection is the very one made (same UUID): not another push's
    // removal, which marks the lease first and drops the collection before deleting it, but the lease collection dropped
    // by a push that found it empty just before this lease was written. Written again, unless another push has written
    // one meanwhile (an upsert that then collides with it).
    private async Task<bool> RetakeAsync(CancellationToken cancellationToken)
    {
        if ((_stagingUuid is null && _stagingShape is null) || _lost.IsCancellationRequested)
        {
            return false;
        }

        var any = await _connection.RunAsync("find (staging lease)", t => Leases(_connection).Find(Builders<BsonDocument>.Filter.Eq("_id", Staging)).Limit(1).ToListAsync(t), cancellationToken).ConfigureAwait(false);
        // A lease another push wrote for the collection it found without one is taken back (only while still orphaned).
        var orphaned = any is [var found] && found.GetValue("owner", BsonNull.Value) == Orphaned;
        if ((any.Count > 0 && !orphaned) || !await StillMadeAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            await WriteAsync(Builders<BsonDocument>.Filter.Eq("_id", Staging) & Builders<BsonDocument>.Filter.Eq("owner", orphaned ? Orphaned : _owner), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (MongoException ex) when (ex.InnerException is MongoWriteException { WriteError.Category: ServerErrorCategory.DuplicateKey })
        {
            // Written by another push, or by this one's other renewal (the loop's and the one before the rename) at once.
            var now = await _connection.RunAsync("find (staging lease)", t => Leases(_connection).Find(Builders<BsonDocument>.Filter.Eq("_id", Staging)).Limit(1).ToListAsync(t), cancellationToken).ConfigureAwait(false);
            return now is [var lease] && lease.GetValue("owner", BsonNull.Value) == _owner;
        }
    }

    private async Task RenewEveryAsync(TimeSpan interval)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _stop.Token).ConfigureAwait(false);
                try
                {
                    await RenewAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (MongoException) when (_lost.IsCancellationRequested)
                {
                    return;
                }
                catch (MongoException)
                {
                    // The server away for a moment: the load meets it too, and the next renewal tries again.
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Removes the lease once its staging collection is gone (renamed or dropped). Best effort and bounded.</summary>
    public async Task ReleaseAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        using var bound = new CancellationTokenSource(ReleaseTime);
        try
        {
            await Leases(_connection).DeleteOneAsync(Builders<BsonDocument>.Filter.Eq("_id", Staging) & Builders<BsonDocument>.Filter.Eq("owner", _owner), bound.Token).ConfigureAwait(false);
            await DropLeasesIfEmptyAsync(_connection, bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MongoDB.Driver.MongoException or TimeoutException or OperationCanceledException)
        {
            // A lease left behind names no collection: the next push removes it.
        }
    }

    // Leaves no empty lease collection behind. A push that wrote its lease between the count and the drop finds it gone
    // at its next renewal and writes it again (RetakeAsync); meanwhile its staging collection, without a lease, is one no
    // other push removes.
    private static async Task DropLeasesIfEmptyAsync(MongoConnection connection, CancellationToken cancellationToken)
    {
        if (await Leases(connection).Find(FilterDefinition<BsonDocument>.Empty).Limit(1).CountDocumentsAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            await connection.Database.DropCollectionAsync(Leases(connection).CollectionNamespace.CollectionName, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopRenewingAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        _stop.Dispose();
        _lost.Dispose();
    }

    /// <summary>
    /// Removes the staging collections (and leases) of this collection's earlier pushes that died: the lease's process is
    /// gone (same host), or its heartbeat is older than <see cref="MongoOptions.StagingLeaseTimeout"/> by the server's
    /// clock. A collection named like a staging collection but without a lease (a user's own, or an earlier version's,
    /// <c>&lt;collection&gt;.push-data-&lt;32 hex&gt;</c>) is named in a warning, not removed: push-data did not provably
    /// make it, and such an earlier push may be running. Each removal is logged.
    /// </summary>
    public static async Task RemoveDeadAsync(MongoConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        var options = connection.Options;
        var names = await connection.RunAsync("listCollections", async t =>
        {
            using var cursor = await connection.Database.ListCollectionNamesAsync(cancellationToken: t).ConfigureAwait(false);
            return await cursor.ToListAsync(t).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        var prefix = options.Collection + Infix;
        var staging = names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && Hex32().IsMatch(n[prefix.Length..])).ToHashSet(StringComparer.Ordinal);
        var legacyPrefix = options.Collection + ".push-data-";
        foreach (var legacy in names.Where(n => n.StartsWith(legacyPrefix, StringComparison.Ordinal) && Hex32().IsMatch(n[legacyPrefix.Length..])))
        {
            logger.LogWarning("{Database}.{Name} is the staging collection of a push-data --drop of an earlier version, stopped before it renamed it (killed, or its rename unacknowledged); it has no lease, so it is not removed while such a push might be running: drop it (db.getCollection(\"{Name}\").drop()) unless one is",
                options.Database, legacy, legacy);
        }

        if (!names.Contains(prefix + "leases") && staging.Count == 0)
        {
            return;
        }

        var leasesCollection = Leases(connection);
        var leases = await connection.RunAsync("find (staging leases)", t => leasesCollection.Find(FilterDefinition<BsonDocument>.Empty).ToListAsync(t), cancellationToken).ConfigureAwait(false);
        var now = await ServerTimeAsync(connection, cancellationToken).ConfigureAwait(false);
        var byName = leases.Where(l => l.GetValue("_id", BsonNull.Value).IsString).ToDictionary(l => l["_id"].AsString, StringComparer.Ordinal);
        var removed = false;
        foreach (var name in staging.Union(byName.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(name, out var lease) && MadeByPushData(options.Collection, name[prefix.Length..]))
            {
                // Made by push-data (its name says so), its lease lost: leased now, so it is removed once no push takes it back.
                try
                {
                    await connection.RunAsync("update (staging lease)", t => leasesCollection.UpdateOneAsync(
                        Builders<BsonDocument>.Filter.Eq("_id", name) & Builders<BsonDocument>.Filter.Eq("owner", Orphaned),
                        Builders<BsonDocument>.Update.Set("host", "?").CurrentDate("heartbeat"), new UpdateOptions { IsUpsert = true }, t), cancellationToken).ConfigureAwait(false);
                    logger.LogWarning("{Database}.{Name} is a push-data --drop staging collection whose lease was lost (its push stopped before it wrote it again): leased now, it is removed by the first push-data after {Timeout} unless its push is alive and takes the lease back",
                        options.Database, name, Seconds(options.StagingLeaseTimeout));
                }
                catch (MongoException ex) when (ex.InnerException is MongoWriteException { WriteError.Category: ServerErrorCategory.DuplicateKey })
                {
                    // Its push wrote its lease again meanwhile: alive.
                }

                continue;
            }

            if (lease is null)
            {
                // Every staging collection push-data makes has its lease from before its create until after its drop or
                // rename: one without is not provably ours (a user's collection so named, or a lease deleted by hand).
                logger.LogWarning("{Database}.{Name} is named like a push-data --drop staging collection but has no lease in {Leases}, so push-data did not make it (or its lease was deleted by hand): it is left alone; drop it yourself if it is a leftover",
                    options.Database, name, leasesCollection.CollectionNamespace.CollectionName);
                continue;
            }

            var dead = DeadReason(lease, now, options.StagingLeaseTimeout);
            if (dead is null && lease.GetValue("owner", BsonNull.Value) == Orphaned)
            {
                logger.LogInformation("{Database}.{Name} is a push-data --drop staging collection whose lease was lost, leased again {Age} ago: it is removed after {Timeout} unless its push takes the lease back",
                    options.Database, name, Seconds(now - lease["heartbeat"].ToUniversalTime()), Seconds(options.StagingLeaseTimeout));
                continue;
            }

            if (dead is null)
            {
                logger.LogInformation("{Database}.{Name} is being loaded by a push-data on {Host} (pid {Pid}), whose lease was renewed {Age} ago: left alone",
                    options.Database, name, lease.GetValue("host", "?"), lease.GetValue("pid", "?"), Seconds(now - lease["heartbeat"].ToUniversalTime()));
                continue;
            }

            // Taken only if unchanged since read: a push that renewed it meanwhile is alive and keeps it.
            var taken = await connection.RunAsync("update (staging lease)", t => leasesCollection.UpdateOneAsync(
                Builders<BsonDocument>.Filter.Eq("_id", name) & Builders<BsonDocument>.Filter.Eq("owner", lease.GetValue("owner", BsonNull.Value)) & Builders<BsonDocument>.Filter.Eq("heartbeat", lease.GetValue("heartbeat", BsonNull.Value)),
                Builders<BsonDocument>.Update.Set("owner", $"removed by pid {Environment.ProcessId} on {Environment.MachineName}"), cancellationToken: t), cancellationToken).ConfigureAwait(false);
            if (taken.IsAcknowledged && taken.MatchedCount == 0)
            {
                continue;
            }

            if (staging.Contains(name))
            {
                await connection.RunAsync("drop", async t =>
                {
                    await connection.Database.DropCollectionAsync(name, t).ConfigureAwait(false);
                    return true;
                }, cancellationToken).ConfigureAwait(false);
                logger.LogWarning("Removed {Database}.{Name}, the staging collection of an earlier push-data --drop that died before it renamed it ({Reason})", options.Database, name, dead);
            }

            // Its collection gone, the lease goes last: removed first, a stop in between would leave the collection unleased.
            await connection.RunAsync("delete (staging lease)", t => leasesCollection.DeleteOneAsync(Builders<BsonDocument>.Filter.Eq("_id", name), t), cancellationToken).ConfigureAwait(false);
            removed = true;
        }

        if (removed)
        {
            await connection.RunAsync("drop (staging leases)", async t =>
            {
                await DropLeasesIfEmptyAsync(connection, t).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    // Why the lease's push is dead, or null while it may be alive.
    private static string? DeadReason(BsonDocument lease, DateTime now, TimeSpan timeout)
    {
        var host = lease.GetValue("host", BsonNull.Value);
        if (host.IsString && host.AsString == Environment.MachineName && lease.GetValue("pid", BsonNull.Value).IsInt32)
        {
            var pid = lease["pid"].AsInt32;
            var started = lease.GetValue("process_start", BsonNull.Value);
            try
            {
                using var process = Process.GetProcessById(pid);
                if (started.IsValidDateTime && Math.Abs((process.StartTime.ToUniversalTime() - started.ToUniversalTime()).TotalSeconds) > 2)
                {
                    return $"its process, pid {pid} on this host, is gone; that pid is another process now";
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                return $"its process, pid {pid} on this host, is gone";
            }
        }

        if (!lease.GetValue("heartbeat", BsonNull.Value).IsValidDateTime)
        {
            return "its lease has no heartbeat";
        }

        var age = now - lease["heartbeat"].ToUniversalTime();
        return age > timeout
            ? $"its lease, held by {lease.GetValue("host", "?")} pid {lease.GetValue("pid", "?")}, was last renewed {Seconds(age)} ago, more than the {Seconds(timeout)} a live push renews it within"
            : null;
    }

    // The server's clock, which also set the heartbeats: another machine's clock may be off.
    private static async Task<DateTime> ServerTimeAsync(MongoConnection connection, CancellationToken cancellationToken)
    {
        var hello = await connection.RunAsync("hello", t => connection.Database.RunCommandAsync<BsonDocument>(new BsonDocument("hello", 1), cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return hello.GetValue("localTime", BsonNull.Value).IsValidDateTime ? hello["localTime"].ToUniversalTime() : DateTime.UtcNow;
    }

    private static string Seconds(TimeSpan time) => $"{Math.Max(0, time.TotalSeconds).ToString("0.#", CultureInfo.InvariantCulture)} s";

    [GeneratedRegex(@"^(.+)\.push-data\.(?:leases|[0-9a-f]{32})\z", RegexOptions.Singleline)]
    private static partial Regex ReservedName();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Hex32();
}
