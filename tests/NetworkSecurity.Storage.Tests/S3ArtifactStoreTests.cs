using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Api.Tests;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Storage.Tests;

public sealed class S3ArtifactStoreTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    private AmazonS3Client Client() => server.Client();

    private Task<string> BucketAsync() => server.NewBucketAsync('b');

    private static (string Run, string Model) MakeRun(TempDirectory dir)
    {
        var run = Path.Combine(dir.Path, "Artifacts", "20261123_101500");
        Directory.CreateDirectory(Path.Combine(run, "model_trainer"));
        File.WriteAllText(Path.Combine(run, "model_trainer", "leaderboard.csv"), "rank,learner\n1,gbdt\n");
        var big = new byte[20 * 1024 * 1024 + 123]; // over the multipart threshold
        new Random(1).NextBytes(big);
        File.WriteAllBytes(Path.Combine(run, "model_trainer", "model.bin"), big);
        var model = Path.Combine(dir.Path, "final_model", "20261123_101500");
        Directory.CreateDirectory(model);
        File.WriteAllBytes(Path.Combine(model, ModelStore.BundleFileName), [1, 2, 3, 4, 5]);
        File.WriteAllText(Path.Combine(model, ModelStore.CardFileName), "{\"version\":\"20261123_101500\"}");
        return (run, model);
    }

    private async Task<byte[]> GetAsync(string bucket, string key)
    {
        using var client = Client();
        using var response = await client.GetObjectAsync(bucket, key);
        using var memory = new MemoryStream();
        await response.ResponseStream.CopyToAsync(memory);
        return memory.ToArray();
    }

    [Fact]
    public async Task A_model_published_without_its_runs_folder_is_marked_published_so_a_rollback_of_latest_stands()
    {
        // A served version whose Artifacts/<version> is gone (pruned, or promoted before S3 was set up) went up with no
        // artifacts: nothing said its publication finished, so after LATEST was pointed back by hand every restart took it
        // for a publication cut short and moved LATEST forward again.
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        Directory.Delete(run, recursive: true);
        var bucket = await BucketAsync();
        var options = server.Options(bucket, "ns/");
        using var store = new S3ArtifactStore(options, NullLogger.Instance);
        using var source = new NetworkSecurity.Storage.Replication.S3ModelSource(options);

        var result = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);

        Assert.True(result.Synced, result.Message);
        Assert.True(await source.RunPublishedAsync("20261123_101500", CancellationToken.None));
        var note = System.Text.Encoding.UTF8.GetString(await GetAsync(bucket, $"ns/artifact/20261123_101500/{S3ArtifactStore.NoArtifactsNote}"));
        Assert.StartsWith("Model 20261123_101500 was published without its run's artifacts: the folder 20261123_101500 was not", note, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3, 4, 5], await GetAsync(bucket, "ns/final_model/20261123_101500/model.nsm"));
    }

    [Fact]
    public async Task Publishes_the_seed_layout_byte_for_byte_and_skips_unchanged_files()
    {
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        using var store = new S3ArtifactStore(server.Options(bucket, "ns/"), NullLogger.Instance);

        var first = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(first.Synced, first.Message);
        Assert.Equal(4, first.FilesUploaded);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "model_trainer", "model.bin")), await GetAsync(bucket, "ns/artifact/20261123_101500/model_trainer/model.bin"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "model_trainer", "leaderboard.csv")), await GetAsync(bucket, "ns/artifact/20261123_101500/model_trainer/leaderboard.csv"));
        Assert.Equal([1, 2, 3, 4, 5], await GetAsync(bucket, "ns/final_model/20261123_101500/model.nsm"));
        Assert.Equal("20261123_101500", System.Text.Encoding.UTF8.GetString(await GetAsync(bucket, "ns/final_model/LATEST")));

        var second = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(second.Synced, second.Message);
        Assert.Equal(0, second.FilesUploaded);
        Assert.Equal(4, second.FilesSkipped);
    }

    [Fact]
    public async Task A_file_deleted_or_replaced_in_the_bucket_since_is_uploaded_again_not_skipped_by_the_manifest()
    {
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        using var store = new S3ArtifactStore(server.Options(bucket, "ns/"), NullLogger.Instance);
        Assert.True((await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None)).Synced);

        // Removed by hand (or a lifecycle rule), and another one replaced by other bytes: the manifest still lists both
        // as sent, so every later publication of the version skipped them and failed its own check, for good.
        using (var client = Client())
        {
            await client.DeleteObjectAsync(bucket, "ns/final_model/20261123_101500/model.nsm");
            await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "ns/artifact/20261123_101500/model_trainer/leaderboard.csv", ContentBody = "truncated", UseChunkEncoding = false });
        }

        var again = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(again.Synced, again.Message);
        Assert.Equal(2, again.FilesUploaded);
        Assert.Equal(2, again.FilesSkipped);
        Assert.Equal([1, 2, 3, 4, 5], await GetAsync(bucket, "ns/final_model/20261123_101500/model.nsm"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "model_trainer", "leaderboard.csv")), await GetAsync(bucket, "ns/artifact/20261123_101500/model_trainer/leaderboard.csv"));
    }

    [Fact]
    public async Task A_store_that_keeps_other_bytes_than_it_was_sent_fails_the_publication_and_latest_stays_unmoved()
    {
        // s3rver answers 200 to aws-chunked uploads and keeps their framing as the object: the run said "published"
        // while every replica refused the version.
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        using var store = new S3ArtifactStore(server.Options(bucket, "ns/") with { DisableChunkedEncoding = false }, NullLogger.Instance);

        var result = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.False(result.Synced);
        Assert.Contains("did not keep what it was sent under ns/final_model/20261123_101500/", result.Message);
        Assert.Contains("bytes sent", result.Message);
        Assert.Contains("set S3_DISABLE_CHUNKED_ENCODING=true", result.Message);
        using var client = Client();
        await Assert.ThrowsAsync<NoSuchKeyException>(() => client.GetObjectAsync(bucket, "ns/final_model/LATEST"));

        // The cure the message names works for this very version: the mangled manifest left behind is no manifest, so
        // every file goes again (it failed every retry on the manifest's JSON).
        using var cured = new S3ArtifactStore(server.Options(bucket, "ns/"), NullLogger.Instance);
        var again = await cured.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(again.Synced, again.Message);
        Assert.Equal(4, again.FilesUploaded);
        Assert.Equal([1, 2, 3, 4, 5], await GetAsync(bucket, "ns/final_model/20261123_101500/model.nsm"));
        Assert.Equal("20261123_101500", System.Text.Encoding.UTF8.GetString(await GetAsync(bucket, "ns/final_model/LATEST")));
    }

    [Fact]
    public async Task Latest_is_never_moved_back_from_a_newer_version_but_a_newer_name_with_nothing_behind_it_is_replaced()
    {
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        using var store = new S3ArtifactStore(server.Options(bucket, "ns/"), NullLogger.Instance);
        using var client = Client();

        // A name later than any version, with no version behind it (a hand-edited LATEST): it held every replica back.
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "ns/final_model/LATEST", ContentBody = "20991231_235959", UseChunkEncoding = false });
        var first = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(first.Synced, first.Message);
        Assert.Equal("20261123_101500", System.Text.Encoding.UTF8.GetString(await GetAsync(bucket, "ns/final_model/LATEST")));

        // A real newer version stays: an older run published late does not move replicas backwards.
        var newer = Path.Combine(dir.Path, "final_model", "20261124_090000");
        Directory.CreateDirectory(newer);
        File.Copy(Path.Combine(model, ModelStore.BundleFileName), Path.Combine(newer, ModelStore.BundleFileName));
        Assert.True((await store.PublishAsync(run, "20261124_090000", newer, CancellationToken.None)).Synced);
        var late = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.Contains("LATEST left at the newer 20261124_090000", late.Message);
        Assert.Equal("20261124_090000", System.Text.Encoding.UTF8.GetString(await GetAsync(bucket, "ns/final_model/LATEST")));
    }

    [Fact]
    public async Task Latest_naming_a_newer_version_known_not_to_load_is_pointed_at_the_version_published()
    {
        // A complete newer version whose files do not load (replaced by hand, another schema) held LATEST: every replica
        // stayed on the model before it, and models trained since stayed on the replica that trained them.
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        const string broken = "20261124_090000";
        var newer = Path.Combine(dir.Path, "final_model", broken);
        Directory.CreateDirectory(newer);
        File.Copy(Path.Combine(model, ModelStore.BundleFileName), Path.Combine(newer, ModelStore.BundleFileName));
        using (var first = new S3ArtifactStore(server.Options(bucket, "ns/"), NullLogger.Instance))
        {
            Assert.True((await first.PublishAsync(run, broken, newer, CancellationToken.None)).Synced);
        }

        var log = new LinesLogger();
        using var store = new S3ArtifactStore(server.Options(bucket, "ns/"), log, v => v == broken ? "model.nsm is not a model" : null);
        var result = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(result.Synced, result.Message);
        Assert.Equal("20261123_101500", System.Text.Encoding.UTF8.GetString(await GetAsync(bucket, "ns/final_model/LATEST")));
        Assert.Contains(log.Lines, l => l.Contains($"names {broken}, which cannot be served (model.nsm is not a model)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_prefix_with_spaces_and_non_ascii_letters_publishes_is_followed_pulled_and_leased()
    {
        // s3rver's 404 for such a key is not XML (HTML entities): every "not there yet" read as an outage, so nothing
        // was published, LATEST never read, the lease never taken.
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var options = server.Options(await BucketAsync(), "team models/ünï/");
        using var store = new S3ArtifactStore(options, NullLogger.Instance);
        using var source = new NetworkSecurity.Storage.Replication.S3ModelSource(options);
        Assert.Equal(NetworkSecurity.Storage.Replication.LatestState.Missing, (await source.CheckLatestAsync(null, CancellationToken.None)).State);
        Assert.False(await store.TryPullLatestModelAsync(Path.Combine(dir.Path, "empty"), AnyFolder, CancellationToken.None));

        var published = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.True(published.Synced, published.Message);
        Assert.Equal([1, 2, 3, 4, 5], await GetAsync(options.Bucket, "team models/ünï/final_model/20261123_101500/model.nsm"));
        Assert.Equal("20261123_101500", (await source.CheckLatestAsync(null, CancellationToken.None)).Version);
        var replica = Path.Combine(dir.Path, "replica");
        Assert.True(await store.TryPullLatestModelAsync(replica, AnyFolder, CancellationToken.None));
        Assert.Equal("20261123_101500", new ModelStore(replica).CurrentVersion);

        using var lease = new NetworkSecurity.Storage.Replication.S3TrainingLease(options,
            new NetworkSecurity.Storage.Replication.S3LeaseSettings { Duration = TimeSpan.FromSeconds(5), SettleDelay = TimeSpan.FromMilliseconds(300) }, "replica-ü", NullLogger.Instance);
        Assert.True((await lease.TryAcquireAsync("job-1", CancellationToken.None)).Acquired);
    }

    [Fact]
    public async Task Pulls_the_latest_promoted_model_into_an_empty_folder()
    {
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        using var store = new S3ArtifactStore(server.Options(bucket), NullLogger.Instance);
        Assert.False(await store.TryPullLatestModelAsync(Path.Combine(dir.Path, "replica"), AnyFolder, CancellationToken.None)); // nothing promoted yet
        Assert.True((await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None)).Synced);

        var replica = Path.Combine(dir.Path, "replica");
        Assert.True(await store.TryPullLatestModelAsync(replica, AnyFolder, CancellationToken.None));
        var live = new ModelStore(replica);
        Assert.Equal("20261123_101500", live.CurrentVersion);
        Assert.Equal([1, 2, 3, 4, 5], File.ReadAllBytes(Path.Combine(live.CurrentModelDirectory!, ModelStore.BundleFileName)));
        Assert.DoesNotContain(Directory.GetDirectories(replica), d => Path.GetFileName(d).StartsWith(".pull", StringComparison.Ordinal));
    }

    private static void AnyFolder(string folder)
    {
    }

    [Fact]
    public async Task A_pulled_version_that_does_not_load_is_not_made_current()
    {
        // The files match the store's manifest, but model.nsm is five bytes, not a model: loaded before adoption, it is
        // refused, and the replica has no model rather than a CURRENT it cannot serve.
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var bucket = await BucketAsync();
        var log = new LinesLogger();
        using var store = new S3ArtifactStore(server.Options(bucket), log);
        Assert.True((await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None)).Synced);

        var replica = Path.Combine(dir.Path, "replica");
        Assert.False(await store.TryPullLatestModelAsync(replica, folder => ModelStore.LoadVerified(folder, null), CancellationToken.None));
        Assert.Null(new ModelStore(replica).CurrentVersion);
        Assert.Empty(Directory.Exists(replica) ? Directory.GetFileSystemEntries(replica) : []); // no version, no download folder
        var warning = Assert.Single(log.Lines, l => l.Contains("No model pulled", StringComparison.Ordinal));
        Assert.Contains($"model 20261123_101500 in s3://{bucket}/", warning);
        Assert.Contains("20261123_101500 as downloaded", warning); // the version, not the removed download folder
        Assert.DoesNotContain(".download-", warning);
    }

    [Fact]
    public async Task A_missing_bucket_is_reported_not_thrown()
    {
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        using var store = new S3ArtifactStore(server.Options("no-such-bucket-here"), NullLogger.Instance);
        var result = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.False(result.Synced);
        Assert.Contains("bucket does not exist", result.Message);
    }

    [Fact]
    public async Task An_unreachable_store_fails_within_the_time_budget_without_leaking_the_secret()
    {
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir);
        var options = server.Options("bucket") with { ServiceUrl = "http://127.0.0.1:1", SecretKey = "super-secret-value", MaxSyncTime = TimeSpan.FromSeconds(10) };
        using var store = new S3ArtifactStore(options, NullLogger.Instance);
        var clock = Stopwatch.StartNew();
        var result = await store.PublishAsync(run, "20261123_101500", model, CancellationToken.None);
        Assert.False(result.Synced);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.DoesNotContain("super-secret-value", result.Message + store.Description);
    }

    [Fact]
    public async Task Temporary_credentials_from_the_environment_send_their_session_token()
    {
        // A store that records each request's head and answers 404: the token must travel with the temporary keys
        // (dropped, every request was refused: InvalidAccessKeyId).
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, TestPorts.Free());
        listener.Start();
        var heads = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                var head = new System.Text.StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(buffer, stop.Token) is var read and > 0)
                {
                    head.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
                }

                heads.Enqueue(head.ToString());
                var body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>"u8.ToArray();
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), stop.Token);
                await stream.WriteAsync(body, stop.Token);
            }
        });
        try
        {
            var env = new Dictionary<string, string>
            {
                ["S3_BUCKET"] = "b", ["S3_ENDPOINT_URL"] = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}", ["S3_FORCE_PATH_STYLE"] = "true",
                ["AWS_ACCESS_KEY_ID"] = "ASIATEMPORARYKEY", ["AWS_SECRET_ACCESS_KEY"] = "secret", ["AWS_SESSION_TOKEN"] = "the-session-token",
            };
            var options = S3Options.FromEnvironment(k => env.GetValueOrDefault(k))!;
            using var source = new NetworkSecurity.Storage.Replication.S3ModelSource(options);
            Assert.Equal(NetworkSecurity.Storage.Replication.LatestState.Missing, (await source.CheckLatestAsync(null, CancellationToken.None)).State);
            Assert.Contains("x-amz-security-token: the-session-token", Assert.Single(heads), StringComparison.OrdinalIgnoreCase);
            Assert.Null(S3Options.FromEnvironment(k => k == "AWS_SESSION_TOKEN" ? "" : env.GetValueOrDefault(k))!.SessionToken); // empty is unset
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await Assert.ThrowsAnyAsync<Exception>(() => serving);
        }
    }

    [Fact]
    public void Options_come_from_the_environment_and_are_off_without_a_bucket()
    {
        Assert.Null(S3Options.FromEnvironment(_ => null));
        var env = new Dictionary<string, string> { ["S3_BUCKET"] = "b", ["S3_PREFIX"] = "p", ["S3_ENDPOINT_URL"] = "http://127.0.0.1:9000", ["S3_FORCE_PATH_STYLE"] = "true", ["AWS_REGION"] = "eu-west-1" };
        var options = S3Options.FromEnvironment(k => env.GetValueOrDefault(k))!;
        Assert.Equal(("b", "p/", "eu-west-1", true), (options.Bucket, options.Prefix, options.Region, options.ForcePathStyle));
        var secret = options with { AccessKey = "AKIAEXAMPLE", SecretKey = "wJalrXUtnFEMI", SessionToken = "session-789" };
        Assert.Equal("S3Options { Bucket = b, Prefix = p/, Region = eu-west-1, ServiceUrl = http://127.0.0.1:9000, AccessKey = AKIAEXAMPLE, SecretKey = ***, SessionToken = *** }", secret.ToString()); // a record prints every property
        Assert.False(options.DisableChunkedEncoding);

        S3Options? With(string key, string value) => S3Options.FromEnvironment(k => k == key ? value : k == "S3_BUCKET" ? "b" : null);
        foreach (var yes in new[] { "1", "true", "TRUE", "yes", "on", " On " })
        {
            Assert.True(With("S3_DISABLE_CHUNKED_ENCODING", yes)!.DisableChunkedEncoding, yes);
        }

        foreach (var no in new[] { "", "0", "false", "no", "off" })
        {
            Assert.False(With("S3_FORCE_PATH_STYLE", no)!.ForcePathStyle, no);
        }

        // Refused, never silently false: "yes" read as false left chunked uploads on.
        Assert.Contains("S3_DISABLE_CHUNKED_ENCODING '2' is not true or false", Assert.Throws<ArgumentException>(() => With("S3_DISABLE_CHUNKED_ENCODING", "2")).Message);
        // Segments a URL resolves: S3_PREFIX=../up wrote into the bucket "up".
        foreach (var prefix in new[] { "../up", "a/../b", "./x", "a//b", "/abs", " ", "a/ /b", "prod//", "prod///" })
        {
            Assert.Contains($"S3_PREFIX '{prefix}' has an empty, '.' or '..' segment", Assert.Throws<ArgumentException>(() => With("S3_PREFIX", prefix)).Message);
        }

        Assert.Equal("team/models/", With("S3_PREFIX", "team/models")!.Prefix);
        Assert.Contains("S3_ENDPOINT_URL 'ftp://AKIA:***@minio:9000' is not an http(s) URL", Assert.Throws<ArgumentException>(() => With("S3_ENDPOINT_URL", "ftp://AKIA:s3cr3t@minio:9000")).Message);
        Assert.Contains("is not a bucket name", Assert.Throws<ArgumentException>(() => S3Options.FromEnvironment(k => k == "S3_BUCKET" ? "a/../b" : null)).Message);

        // An empty region is unset (the default, or AWS_DEFAULT_REGION), not a host name the SDK cannot build.
        Assert.Equal("us-east-1", With("AWS_REGION", "")!.Region);
        Assert.Equal("eu-central-1", S3Options.FromEnvironment(k => k switch { "S3_BUCKET" => "b", "AWS_REGION" => "", "AWS_DEFAULT_REGION" => "eu-central-1", _ => null })!.Region);
        Assert.Contains("AWS_REGION (or AWS_DEFAULT_REGION) 'not a region' is not a region name", Assert.Throws<ArgumentException>(() => With("AWS_REGION", "not a region")).Message);
        // Checked without a bucket too: a value that cannot work is said at once, not when S3 is first switched on.
        Assert.Contains("S3_ENDPOINT_URL 'ftp://x' is not an http(s) URL", Assert.Throws<ArgumentException>(() => S3Options.FromEnvironment(k => k == "S3_ENDPOINT_URL" ? "ftp://x" : null)).Message);
        Assert.Contains("S3_FORCE_PATH_STYLE 'maybe' is not true or false", Assert.Throws<ArgumentException>(() => S3Options.FromEnvironment(k => k == "S3_FORCE_PATH_STYLE" ? "maybe" : null)).Message);
    }
}
