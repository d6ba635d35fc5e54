using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Storage.Tests;

/// <summary>Publication order, the LATEST pointer with conditional GETs, and verified downloads, against s3rver.</summary>
public sealed class S3ModelSourceTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    private AmazonS3Client Client() => server.Client();

    private async Task<S3Options> BucketAsync() => server.Options(await server.NewBucketAsync('m'), "ns/");

    private static (string Run, string Model) MakeRun(TempDirectory dir, string version, int size = 4096)
    {
        var run = Path.Combine(dir.Path, "Artifacts", version);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "metrics.json"), "{}");
        var model = Path.Combine(dir.Path, "final_model", version);
        Directory.CreateDirectory(model);
        var bytes = new byte[size];
        new Random(version.GetHashCode(StringComparison.Ordinal)).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(model, ModelStore.BundleFileName), bytes);
        File.WriteAllText(Path.Combine(model, ModelStore.CardFileName), $"{{\"version\":\"{version}\"}}");
        return (run, model);
    }

    private async Task PutAsync(S3Options options, string key, byte[] body)
    {
        using var client = Client();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = key, InputStream = new MemoryStream(body), UseChunkEncoding = false });
    }

    [Fact]
    public async Task Latest_is_missing_then_found_then_unchanged_for_the_same_etag_and_written_after_the_model_files()
    {
        var options = await BucketAsync();
        using var source = new S3ModelSource(options);
        Assert.Equal(LatestState.Missing, (await source.CheckLatestAsync(null, CancellationToken.None)).State);

        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir, "20261125_100000");
        using var store = new S3ArtifactStore(options, NullLogger.Instance);
        var result = await store.PublishAsync(run, "20261125_100000", model, CancellationToken.None);
        Assert.True(result.Synced, result.Message);

        var found = await source.CheckLatestAsync(null, CancellationToken.None);
        Assert.Equal(LatestState.Found, found.State);
        Assert.Equal("20261125_100000", found.Version);
        Assert.NotNull(found.ETag);
        var again = await source.CheckLatestAsync(found.ETag, CancellationToken.None);
        Assert.Equal(LatestState.Unchanged, again.State);
        Assert.Null(again.Version);

        // Files first, LATEST last.
        using var client = Client();
        var latest = await client.GetObjectMetadataAsync(options.Bucket, "ns/final_model/LATEST");
        foreach (var name in new[] { ModelStore.BundleFileName, ModelStore.CardFileName, ".manifest.json" })
        {
            var file = await client.GetObjectMetadataAsync(options.Bucket, $"ns/final_model/20261125_100000/{name}");
            Assert.True(file.LastModified <= latest.LastModified, $"{name} was written after LATEST");
        }
    }

    [Fact]
    public async Task A_late_publication_of_an_older_version_does_not_move_latest_backwards()
    {
        var options = await BucketAsync();
        using var dir = new TempDirectory();
        using var store = new S3ArtifactStore(options, NullLogger.Instance);
        var (run2, model2) = MakeRun(dir, "20261125_120000");
        Assert.True((await store.PublishAsync(run2, "20261125_120000", model2, CancellationToken.None)).Synced);
        var (run1, model1) = MakeRun(dir, "20261125_110000");
        var late = await store.PublishAsync(run1, "20261125_110000", model1, CancellationToken.None);
        Assert.True(late.Synced, late.Message);
        Assert.Contains("newer 20261125_120000", late.Message);

        using var source = new S3ModelSource(options);
        Assert.Equal("20261125_120000", (await source.CheckLatestAsync(null, CancellationToken.None)).Version);
    }

    [Fact]
    public async Task A_download_is_verified_byte_for_byte_and_a_corrupt_or_missing_file_is_refused()
    {
        var options = await BucketAsync();
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir, "20261125_130000", size: 300_000);
        using (var store = new S3ArtifactStore(options, NullLogger.Instance))
        {
            Assert.True((await store.PublishAsync(run, "20261125_130000", model, CancellationToken.None)).Synced);
        }

        using var source = new S3ModelSource(options);
        var good = Path.Combine(dir.Path, "good");
        Assert.Equal(2, await source.DownloadVersionAsync("20261125_130000", good, ModelStore.BundleFileName, CancellationToken.None));
        Assert.Equal(File.ReadAllBytes(Path.Combine(model, ModelStore.BundleFileName)), File.ReadAllBytes(Path.Combine(good, ModelStore.BundleFileName)));

        // Same size, one byte different: only the hash can tell.
        var bytes = File.ReadAllBytes(Path.Combine(model, ModelStore.BundleFileName));
        bytes[1000] ^= 0xFF;
        await PutAsync(options, "ns/final_model/20261125_130000/model.nsm", bytes);
        var corrupt = await Assert.ThrowsAsync<ModelVerificationException>(() => source.DownloadVersionAsync("20261125_130000", Path.Combine(dir.Path, "bad"), ModelStore.BundleFileName, CancellationToken.None));
        Assert.Contains($"s3://{options.Bucket}/ns/final_model/20261125_130000/model.nsm is corrupt", corrupt.Message); // bucket and key

        using (var client = Client())
        {
            await client.DeleteObjectAsync(options.Bucket, "ns/final_model/20261125_130000/model_card.json");
        }

        var missing = await Assert.ThrowsAsync<ModelVerificationException>(() => source.DownloadVersionAsync("20261125_130000", Path.Combine(dir.Path, "bad2"), ModelStore.BundleFileName, CancellationToken.None));
        Assert.Contains($"s3://{options.Bucket}/ns/final_model/20261125_130000/model_card.json is listed in the manifest but missing", missing.Message);

        var absent = await Assert.ThrowsAsync<ModelVerificationException>(() => source.DownloadVersionAsync("20990101_000000", Path.Combine(dir.Path, "bad3"), ModelStore.BundleFileName, CancellationToken.None));
        Assert.Contains($"s3://{options.Bucket}/ns/final_model/20990101_000000/.manifest.json is missing", absent.Message);
    }

    [Theory]
    [InlineData("null", "has no hash")]
    [InlineData("\"abc\"", "has 'abc'")]
    [InlineData("\"zz39a9d9cf75de7499b9dafe2e57f4013149ed88129f96c8040790af717efcd1d\"", "not a SHA-256")]
    public async Task A_manifest_entry_without_a_sha256_is_refused_as_an_invalid_manifest(string hash, string expected)
    {
        var options = await BucketAsync();
        using var dir = new TempDirectory();
        var (run, model) = MakeRun(dir, "20261125_140000");
        using (var store = new S3ArtifactStore(options, NullLogger.Instance))
        {
            Assert.True((await store.PublishAsync(run, "20261125_140000", model, CancellationToken.None)).Synced);
        }

        // A hand-edited or damaged manifest: the model file's entry holds no SHA-256.
        await PutAsync(options, "ns/final_model/20261125_140000/.manifest.json",
            System.Text.Encoding.UTF8.GetBytes($"{{\"{ModelStore.BundleFileName}\":{hash},\"{ModelStore.CardFileName}\":\"{new string('0', 64)}\"}}"));
        using var source = new S3ModelSource(options);
        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => source.DownloadVersionAsync("20261125_140000", Path.Combine(dir.Path, "bad"), ModelStore.BundleFileName, CancellationToken.None));
        Assert.Contains("ns/final_model/20261125_140000/.manifest.json is not a valid manifest", error.Message);
        Assert.Contains($"'{ModelStore.BundleFileName}'", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "bad", ModelStore.BundleFileName)), "nothing is downloaded from an invalid manifest");
    }

    [Theory]
    [InlineData("../../etc/passwd", 0)]
    [InlineData("20261125_140000", 6_000_000)] // a version name and 6 MB of spaces: read no further than 201 characters
    public async Task Garbage_in_latest_is_reported_not_followed(string text, int trailingSpaces)
    {
        var options = await BucketAsync();
        await PutAsync(options, "ns/final_model/LATEST", System.Text.Encoding.UTF8.GetBytes(text + new string(' ', trailingSpaces)));
        using var source = new S3ModelSource(options);
        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => source.CheckLatestAsync(null, CancellationToken.None));
        Assert.Contains($"s3://{options.Bucket}/ns/final_model/LATEST does not hold a version name", error.Message);
    }
}
