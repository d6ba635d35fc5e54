using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Api.Tests;
using NetworkSecurity.Storage.Replication;
using NetworkSecurity.Storage.Tests.Replication;

namespace NetworkSecurity.Storage.Tests;

/// <summary>The training lease against a real S3-compatible server (s3rver ignores conditional writes: settle mode).</summary>
public sealed class S3TrainingLeaseTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    private static readonly S3LeaseSettings Fast = new() { Duration = TimeSpan.FromSeconds(3), SettleDelay = TimeSpan.FromMilliseconds(300) };

    // For tests where the holder's lease must not lapse meanwhile: 3 s had passed before the other replica read it on a
    // loaded machine (23 s for one test), and it then took a lapsed lease, rightly.
    private static readonly S3LeaseSettings Held = Fast with { Duration = TimeSpan.FromMinutes(10) };

    private AmazonS3Client Client() => server.Client();

    private async Task<S3Options> BucketAsync() => server.Options(await server.NewBucketAsync('l'), "ns/");

    private static S3TrainingLease Lease(S3Options options, string replica, S3LeaseSettings? settings = null) =>
        new(options, settings ?? Fast, replica, NullLogger.Instance);

    [Fact]
    public async Task A_replica_whose_clock_is_an_hour_behind_tells_the_time_of_the_store_once_it_has_answered()
    {
        // Runs (so model versions) of the service are named on this clock when replicas share a store: versions are
        // compared by name, and a replica whose clock ran behind named a newer model older than LATEST.
        var options = await BucketAsync();
        var behind = new ShiftedClock(TimeSpan.FromHours(-1));
        using var lease = new S3TrainingLease(options, Fast, "replica-late", NullLogger.Instance, behind);
        var time = lease.Clock.AsTimeProvider();
        Assert.InRange((DateTimeOffset.UtcNow - time.GetUtcNow()).TotalMinutes, 59, 61); // the local clock until the store answers

        Assert.True((await lease.TryAcquireAsync("job-1", CancellationToken.None)).Acquired);
        Assert.InRange((time.GetUtcNow() - DateTimeOffset.UtcNow).TotalSeconds, -5, 5); // s3rver runs on this machine's clock
        Assert.InRange((DateTimeOffset.UtcNow - behind.GetUtcNow()).TotalMinutes, 59, 61);
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }

    [Fact]
    public async Task The_probe_finds_that_s3rver_ignores_conditional_writes_and_falls_back_to_settle_mode()
    {
        var options = await BucketAsync();
        using var lease = Lease(options, "a");
        Assert.Equal(S3LeaseMode.Settle, await lease.ProbeAsync(CancellationToken.None));
        Assert.Contains("settle delay", lease.Description);
        using var client = Client();
        var left = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket });
        Assert.Empty(left.S3Objects ?? []); // the probe object is removed
    }

    [Fact]
    public async Task A_held_lease_is_refused_to_others_with_its_holder_and_job_until_released()
    {
        var options = await BucketAsync();
        using var a = Lease(options, "replica-a");
        using var b = Lease(options, "replica-b");
        var won = await a.TryAcquireAsync("job-1", CancellationToken.None);
        Assert.True(won.Acquired);

        var lost = await b.TryAcquireAsync("job-2", CancellationToken.None);
        Assert.False(lost.Acquired);
        Assert.Equal("replica-a", lost.HeldBy!.Holder);
        Assert.Equal("job-1", lost.HeldBy.JobId);
        Assert.True(lost.HeldBy.ExpiresAt > b.Clock.UtcNow);

        await a.ReleaseAsync(won.Ticket!, CancellationToken.None);
        Assert.Null(await b.HolderAsync(CancellationToken.None));
        Assert.True((await b.TryAcquireAsync("job-3", CancellationToken.None)).Acquired);
    }

    [Fact]
    public async Task Renewal_keeps_the_lease_past_its_first_expiry_and_an_unrenewed_lease_lapses_by_itself()
    {
        var options = await BucketAsync();
        // A 5 s lease renewed every half second: one round of renewal and refusal may take seconds on a loaded CI host
        // without the lease lapsing in between (with 3 s it could).
        var settings = Fast with { Duration = TimeSpan.FromSeconds(5) };
        using var a = Lease(options, "replica-a", settings);
        using var b = Lease(options, "replica-b", settings);
        var ticket = (await a.TryAcquireAsync("job-1", CancellationToken.None)).Ticket!;
        var firstExpiry = ticket.ExpiresAt;

        // Renew for a while beyond the first expiry: B is refused throughout.
        var until = DateTime.UtcNow.AddSeconds(6);
        var lastRenewal = DateTime.UtcNow;
        while (DateTime.UtcNow < until)
        {
            lastRenewal = DateTime.UtcNow;
            Assert.True(await a.RenewAsync(ticket, CancellationToken.None));
            Assert.False((await b.TryAcquireAsync("job-2", CancellationToken.None)).Acquired);
            await Task.Delay(500);
        }

        // Renewed about 6 s later: the expiry moved by about that much, less up to a second each way of the store's Date
        // header (1 s resolution) and a slow last round trip; 3 s is clearly "past the first expiry".
        Assert.True(ticket.ExpiresAt > firstExpiry.AddSeconds(3), $"first expiry {firstExpiry:O}, now {ticket.ExpiresAt:O}");

        // A stops renewing (as if killed): B gets the lease once the last renewal's 5 s have passed on the store's clock.
        // Both replicas read that clock from Date headers (1 s resolution, late by the answer's latency), so "passed" is
        // 5 s after the renewal give or take a second and the latency: measured from the renewal, not from the last
        // refusal (a loaded machine once took 1.3 s between the two).
        LeaseAttempt attempt;
        do
        {
            await Task.Delay(250);
            attempt = await b.TryAcquireAsync("job-2", CancellationToken.None);
        }
        while (!attempt.Acquired && DateTime.UtcNow - lastRenewal < TimeSpan.FromSeconds(15));

        Assert.True(attempt.Acquired, "the lease did not lapse");
        Assert.InRange((DateTime.UtcNow - lastRenewal).TotalSeconds, 3.0, 12);
        Assert.False(await a.RenewAsync(ticket, CancellationToken.None)); // A learns it lost the lease
    }

    [Fact]
    public async Task Of_five_replicas_asking_at_the_same_moment_exactly_one_gets_the_lease()
    {
        var options = await BucketAsync();
        // The settle delay must exceed the longest pause between reading the free lease and writing one's own: generous
        // here, as other tests load the CPU meanwhile.
        var settle = Fast with { SettleDelay = TimeSpan.FromSeconds(1.5) };
        var leases = Enumerable.Range(0, 5).Select(i => Lease(options, $"replica-{i}", settle)).ToArray();
        try
        {
            await Task.WhenAll(leases.Select(l => l.ProbeAsync(CancellationToken.None)));
            var attempts = await Task.WhenAll(leases.Select((l, i) => l.TryAcquireAsync($"job-{i}", CancellationToken.None)));
            var winners = attempts.Where(a => a.Acquired).ToArray();
            Assert.True(winners.Length == 1, $"{winners.Length} winners: " + string.Join(", ", attempts.Select(a => a.Acquired ? a.Ticket!.Holder + " won" : "lost to " + a.HeldBy?.Holder)));
            Assert.All(attempts.Where(a => !a.Acquired), a => Assert.Equal(winners[0].Ticket!.Holder, a.HeldBy?.Holder));
        }
        finally
        {
            foreach (var lease in leases)
            {
                lease.Dispose();
            }
        }
    }

    [Fact]
    public async Task Garbage_in_the_lease_object_counts_as_a_free_lease_and_the_store_clock_is_learnt()
    {
        var options = await BucketAsync();
        using (var client = Client())
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = "ns/leases/training.json", ContentBody = "{not json", UseChunkEncoding = false });
        }

        using var lease = Lease(options, "replica-a");
        var attempt = await lease.TryAcquireAsync("job-1", CancellationToken.None);
        Assert.True(attempt.Acquired);
        Assert.True(lease.Clock.HasObserved);
        Assert.InRange(lease.Clock.Offset.TotalSeconds, -2, 2); // same host: the store's clock is ours, to its 1 s resolution
        using var check = Client();
        using var stored = await check.GetObjectAsync(options.Bucket, "ns/leases/training.json");
        using var reader = new StreamReader(stored.ResponseStream, Encoding.UTF8);
        Assert.Contains("\"holder\":\"replica-a\"", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task A_held_lease_read_torn_while_its_holder_rewrites_it_is_read_again_not_taken_as_free()
    {
        // s3rver's PUTs are not atomic: a read overlapping the holder's renewal can see half a record. Taken as a free
        // lease, another replica took it while the holder still renewed it (a CI failure of the renewal test above).
        var options = await BucketAsync();
        using var a = Lease(options, "replica-a", Held);
        Assert.True((await a.TryAcquireAsync("job-1", CancellationToken.None)).Acquired);
        using var client = Client();
        var held = await LeaseBodyAsync(client, options);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = "ns/leases/training.json", ContentBody = held[..(held.TrimEnd().Length / 2)], UseChunkEncoding = false });

        // B reads the torn record; its holder's rewrite lands before B's next read of it, whenever that comes (a fixed
        // 100 ms for the rewrite against B's 600 ms of reading again failed on a loaded machine).
        using var proxy = new FaultyProxy(server.Endpoint);
        var reads = 0;
        proxy.BeforeRequest = async line =>
        {
            if (IsLeaseRead(line) && Interlocked.Increment(ref reads) == 2)
            {
                await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = "ns/leases/training.json", ContentBody = held, UseChunkEncoding = false });
            }

            return null;
        };
        var log = new LinesLogger();
        using var b = new S3TrainingLease(options with { ServiceUrl = proxy.Endpoint }, Held, "replica-b", log);

        var result = await b.TryAcquireAsync("job-2", CancellationToken.None);

        Assert.False(result.Acquired);
        Assert.Equal("replica-a", result.HeldBy?.Holder);
        // Lost either way (the settle read finds A's record again), but B must not have taken the torn read for a free
        // lease and written over it: when A's rewrite lands after B's write, B wins.
        Assert.DoesNotContain(log.Lines, l => l.Contains("treating it as free", StringComparison.Ordinal));
        Assert.Equal(2, reads); // the torn read, then A's record: no write of B's to read back
    }

    [Fact]
    public async Task A_held_lease_whose_body_ends_early_while_its_holder_rewrites_it_is_read_again()
    {
        // s3rver truncates the object it rewrites in place: a read overlapping the holder's renewal got fewer bytes than
        // its Content-Length, and HttpIOException ("The response ended prematurely") came out of taking the lease (CI,
        // the test above under load). It is a torn read too.
        var options = await BucketAsync();
        using var a = Lease(options, "replica-a", Held);
        Assert.True((await a.TryAcquireAsync("job-1", CancellationToken.None)).Acquired);
        using var proxy = new FaultyProxy(server.Endpoint);
        var reads = 0;
        // Cut four times in a row, as five replicas asking at once rewrite it back to back (CI, under load: the fourth
        // cut read made the store unreachable).
        proxy.BeforeRequest = line => Task.FromResult(IsLeaseRead(line) && Interlocked.Increment(ref reads) <= 4 ? 10 : (int?)null);
        using var b = Lease(options with { ServiceUrl = proxy.Endpoint }, "replica-b", Held with { Mode = S3LeaseMode.Settle });

        var result = await b.TryAcquireAsync("job-2", CancellationToken.None);

        Assert.False(result.Acquired);
        Assert.Equal("replica-a", result.HeldBy?.Holder);
        Assert.Equal(5, reads);

        // Every read cut short: the store cannot be read, which is not a free lease.
        proxy.BeforeRequest = line => Task.FromResult(IsLeaseRead(line) ? 10 : (int?)null);
        using var c = Lease(options with { ServiceUrl = proxy.Endpoint }, "replica-c", Held with { Mode = S3LeaseMode.Settle });
        var error = await Assert.ThrowsAsync<LeaseStoreUnreachableException>(() => c.TryAcquireAsync("job-3", CancellationToken.None));
        Assert.StartsWith($"s3://{options.Bucket}/ns/leases/training.json cannot be reached (", error.Message);
        Assert.Equal("replica-a", (await a.HolderAsync(CancellationToken.None))?.Holder);
    }

    private static bool IsLeaseRead(string requestLine) =>
        requestLine.StartsWith("GET ", StringComparison.Ordinal) && requestLine.Contains("/ns/leases/training.json", StringComparison.Ordinal);

    private static async Task<string> LeaseBodyAsync(AmazonS3Client client, S3Options options)
    {
        using var stored = await client.GetObjectAsync(options.Bucket, "ns/leases/training.json");
        using var reader = new StreamReader(stored.ResponseStream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task A_store_that_cannot_be_reached_is_reported_as_unreachable_naming_the_lease_object()
    {
        var options = server.Options("bucket", "ns/") with { ServiceUrl = "http://127.0.0.1:1" };
        using var lease = Lease(options, "replica-a", Fast with { Mode = S3LeaseMode.Settle });

        var error = await Assert.ThrowsAsync<LeaseStoreUnreachableException>(() => lease.TryAcquireAsync("job-1", CancellationToken.None));

        Assert.StartsWith("s3://bucket/ns/leases/training.json cannot be reached (", error.Message);
    }

    [Fact]
    public async Task Renewing_or_releasing_against_a_store_that_fails_names_the_lease_object()
    {
        // A trainer's renewals while the store is down were logged as "Could not renew the training lease of job …:
        // Connection refused (127.0.0.1:9000)": which bucket, which object?
        var options = await BucketAsync();
        using var holder = Lease(options, "replica-a");
        var ticket = (await holder.TryAcquireAsync("job-1", CancellationToken.None)).Ticket!;
        var location = $"s3://{options.Bucket}/ns/leases/training.json";

        using (var down = Lease(options with { ServiceUrl = "http://127.0.0.1:1" }, "replica-a", Fast with { Mode = S3LeaseMode.Settle }))
        {
            var renewal = await Assert.ThrowsAsync<LeaseStoreUnreachableException>(() => down.RenewAsync(ticket, CancellationToken.None));
            Assert.StartsWith($"{location} cannot be reached (", renewal.Message);
            var release = await Assert.ThrowsAsync<LeaseStoreUnreachableException>(() => down.ReleaseAsync(ticket, CancellationToken.None));
            Assert.StartsWith($"{location} cannot be reached (", release.Message);
        }

        using (var refused = Lease(options with { AccessKey = "WRONG" }, "replica-a", Fast with { Mode = S3LeaseMode.Settle }))
        {
            var renewal = await Assert.ThrowsAsync<LeaseStoreException>(() => refused.RenewAsync(ticket, CancellationToken.None));
            Assert.StartsWith($"{location} cannot be used (access denied (", renewal.Message);
        }

        Assert.True(await holder.RenewAsync(ticket, CancellationToken.None)); // the store itself still holds it for replica-a
    }

    [Fact]
    public async Task A_missing_bucket_or_refused_credentials_are_named_with_the_lease_object()
    {
        // The store's own message ("The specified bucket does not exist") was all POST /train's 503 said: which bucket?
        var missing = server.Options("nobucket" + Guid.NewGuid().ToString("N")[..8], "ns/");
        using (var lease = Lease(missing, "replica-a", Fast with { Mode = S3LeaseMode.Settle }))
        {
            var error = await Assert.ThrowsAsync<LeaseStoreException>(() => lease.TryAcquireAsync("job-1", CancellationToken.None));
            Assert.Equal($"s3://{missing.Bucket}/ns/leases/training.json cannot be used (the bucket does not exist)", error.Message);
        }

        var refused = await BucketAsync() with { AccessKey = "WRONG" }; // s3rver takes only the access key S3RVER
        using (var lease = Lease(refused, "replica-a", Fast with { Mode = S3LeaseMode.Settle }))
        {
            var error = await Assert.ThrowsAsync<LeaseStoreException>(() => lease.TryAcquireAsync("job-1", CancellationToken.None));
            Assert.StartsWith($"s3://{refused.Bucket}/ns/leases/training.json cannot be used (access denied (", error.Message);
            Assert.Contains("check the credentials", error.Message);
        }
    }

    [Fact]
    public async Task A_store_that_keeps_other_bytes_than_it_is_sent_is_named_not_taken_for_a_holder()
    {
        // s3rver with aws-chunked uploads keeps the framing: the record read back was no record, and POST /train answered
        // 409 "held by ? (job ?) until 0001-01-01" on every try.
        var options = await BucketAsync() with { DisableChunkedEncoding = false };
        using var lease = Lease(options, "replica-a", Fast with { Mode = S3LeaseMode.Settle });

        var error = await Assert.ThrowsAsync<LeaseStoreUnreachableException>(() => lease.TryAcquireAsync("job-1", CancellationToken.None));

        Assert.StartsWith($"s3://{options.Bucket}/ns/leases/training.json does not keep what it is sent", error.Message);
        Assert.Contains("S3_DISABLE_CHUNKED_ENCODING=true", error.Message);
    }
}
