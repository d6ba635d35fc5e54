using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>Every promoted version carries a SHA-256 manifest; a damaged or missing version is never served silently.</summary>
public sealed class ModelStoreIntegrityTests
{
    private const string Older = "20260101_000000";
    private const string Newer = "20260102_000000";
    private static readonly DataSchema Schema = SchemaLoader.Load(TestPaths.SchemaFile);

    internal static async Task<ModelBundle> TrainAsync(TempDirectory dir)
    {
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 800));
        options.OverfittingThreshold = 1.0;
        await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        return new ModelStore(options.FinalModelDirectory).LoadCurrent(Schema)!;
    }

    private static ModelBundle As(ModelBundle bundle, string version) =>
        new(bundle.SchemaFingerprint, bundle.FeatureNames, bundle.Imputer, bundle.Classifier, bundle.Card with { Version = version });

    private static double[] Predict(ModelBundle bundle)
    {
        var rows = File.ReadLines(TestPaths.DataFile).Skip(1).Take(300)
            .Select(l => l.Split(',').Take(30).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        foreach (var row in rows.Where((_, i) => i % 3 == 0))
        {
            row[5] = double.NaN; // the imputer is part of the model too
        }

        var result = new double[rows.Length];
        bundle.PredictProbabilities(FeatureMatrix.FromRows(rows), result);
        return result;
    }

    [Fact]
    public async Task A_version_folder_given_as_the_store_is_named_as_such_not_said_to_hold_no_model()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, Older));

        var version = new ModelStore(Path.Combine(store.Directory, Older));

        Assert.Null(version.CurrentVersion);
        Assert.Equal($"'{version.Directory}' is the folder of one model version (it holds model.nsm), not the final model folder: give the folder it is in, whose CURRENT names the live version", version.NoModelReason());
        Assert.StartsWith("no model has been promoted to", new ModelStore(Path.Combine(dir.Path, "empty")).NoModelReason(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_byte_changed_anywhere_in_the_live_version_is_detected_and_the_older_version_is_served()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, Older));
        store.Promote(As(trained, Newer));
        var expected = Predict(store.LoadCurrent(Schema)!);
        Assert.True(File.Exists(Path.Combine(store.Directory, Newer, ModelStore.ManifestFileName)));

        var folder = Path.Combine(store.Directory, Newer);
        var checkedOffsets = 0;
        foreach (var file in new[] { ModelStore.BundleFileName, ModelStore.CardFileName, ModelStore.ManifestFileName })
        {
            var path = Path.Combine(folder, file);
            var original = File.ReadAllBytes(path);
            var step = Math.Max(1, original.Length / (file == ModelStore.BundleFileName ? 150 : 20));
            for (var offset = 0; offset < original.Length; offset += step)
            {
                foreach (var flip in new byte[] { 0x01, 0xFF })
                {
                    var damaged = (byte[])original.Clone();
                    damaged[offset] ^= flip;
                    File.WriteAllBytes(path, damaged);

                    var error = Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema));
                    Assert.Contains(Newer, error.Message);
                    var fallback = store.LoadLatestValid(Schema);
                    Assert.Equal(Older, fallback.Bundle!.Version);
                    Assert.True(fallback.IsFallback);
                    Assert.Equal(Newer, Assert.Single(fallback.Skipped).Version);
                    Assert.Equal(expected, Predict(fallback.Bundle)); // never a silently different answer
                    checkedOffsets++;
                }
            }

            File.WriteAllBytes(path, original);
        }

        Assert.True(checkedOffsets > 300, $"{checkedOffsets} corruptions checked");
        Assert.Equal(Newer, store.LoadLatestValid(Schema).Bundle!.Version);
        Assert.Equal(expected, Predict(store.LoadCurrent(Schema)!));
    }

    [Fact]
    public async Task Truncated_missing_added_or_unlisted_files_fail_the_check()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, Newer));
        var folder = Path.Combine(store.Directory, Newer);
        var model = Path.Combine(folder, ModelStore.BundleFileName);
        var bytes = File.ReadAllBytes(model);

        File.WriteAllBytes(model, bytes[..^1]);
        Assert.Contains("does not match its SHA-256", Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema)).Message);
        File.WriteAllBytes(model, bytes);

        File.WriteAllText(Path.Combine(folder, "extra.bin"), "x");
        Assert.Contains("extra.bin is not listed", Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema)).Message);
        File.Delete(Path.Combine(folder, "extra.bin"));

        var manifest = Path.Combine(folder, ModelStore.ManifestFileName);
        var manifestText = File.ReadAllText(manifest);
        File.Delete(manifest);
        Assert.Contains("has no manifest.json", Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema)).Message);
        File.WriteAllText(manifest, manifestText);

        File.Delete(Path.Combine(folder, ModelStore.CardFileName));
        Assert.Contains("model_card.json is missing", Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema)).Message);
        var none = store.LoadLatestValid(Schema);
        Assert.Null(none.Bundle);
        Assert.Single(none.Skipped);
    }

    [Fact]
    public async Task A_version_whose_files_match_its_manifest_but_do_not_decode_is_skipped_for_the_older_one()
    {
        // As a store can deliver it: bytes and manifest agree (published that way, or both replaced), the bytes are not a model.
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, Older));
        store.Promote(As(trained, Newer));
        var folder = Path.Combine(store.Directory, Newer);
        var bundlePath = Path.Combine(folder, ModelStore.BundleFileName);
        var header = File.ReadAllBytes(bundlePath)[..8]; // magic and format version
        byte[] fingerprint = [(byte)Schema.Fingerprint.Length, .. System.Text.Encoding.ASCII.GetBytes(Schema.Fingerprint)]; // as BinaryWriter writes it
        var damages = new Dictionary<string, byte[]>
        {
            ["a string length that does not decode"] = [.. header, .. Enumerable.Repeat((byte)0xFF, 64)],
            ["a negative feature count"] = [.. header, .. fingerprint, .. BitConverter.GetBytes(-5), .. new byte[64]],
            ["a feature count of two billion"] = [.. header, .. fingerprint, .. BitConverter.GetBytes(int.MaxValue), .. new byte[64]],
        };

        foreach (var (what, bytes) in damages)
        {
            File.WriteAllBytes(bundlePath, bytes);
            ModelManifest.Write(folder, ModelStore.ManifestFileName);

            var error = Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema));
            Assert.Contains("damaged or incomplete", error.Message);
            Assert.Contains(bundlePath, error.Message);
            var result = store.LoadLatestValid(Schema);
            Assert.True(result.Bundle?.Version == Older, $"{what}: {result.Bundle?.Version ?? "no model"} served");
            Assert.Equal(Newer, Assert.Single(result.Skipped).Version);
        }
    }

    [Fact]
    public async Task Current_naming_a_missing_folder_serves_the_newest_valid_older_version()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, "20250101_000000"));
        store.Promote(As(trained, Older));
        store.Promote(As(trained, Newer));
        Directory.Delete(Path.Combine(store.Directory, Newer), recursive: true);
        File.WriteAllBytes(Path.Combine(store.Directory, Older, ModelStore.BundleFileName), [1, 2, 3]); // the next one is damaged too

        Assert.Contains("does not exist", Assert.Throws<PipelineException>(() => store.LoadCurrent(Schema)).Message);
        var result = store.LoadLatestValid(Schema);
        Assert.Equal("20250101_000000", result.Bundle!.Version);
        Assert.Equal([Newer, Older], result.Skipped.Select(s => s.Version));
        Assert.Contains("does not exist", result.Skipped[0].Reason);
    }

    [Fact]
    public async Task An_adopted_download_never_takes_the_place_of_a_newer_live_version()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var source = new ModelStore(Path.Combine(dir.Path, "source"));
        source.Promote(As(trained, Older));
        source.Promote(As(trained, "20260103_000000"));
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, Newer)); // promoted here while a replica's download of an older one was under way

        string Download(string version)
        {
            var folder = store.NewDownloadFolder();
            Directory.CreateDirectory(folder);
            foreach (var file in Directory.GetFiles(Path.Combine(source.Directory, version)))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            return folder;
        }

        store.Adopt(Download(Older), Older);
        Assert.Equal(Newer, store.CurrentVersion); // kept: never backwards
        Assert.True(Directory.Exists(Path.Combine(store.Directory, Older)));
        store.Adopt(Download("20260103_000000"), "20260103_000000");
        Assert.Equal("20260103_000000", store.CurrentVersion);
        Assert.Equal("20260103_000000", store.LoadCurrent(Schema)!.Version);
    }

    [Fact]
    public async Task Abandoned_staging_folders_are_removed_and_old_versions_pruned_to_the_configured_number()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"), versionsKept: 2);
        foreach (var version in new[] { "20260101_000001", "20260101_000002", "20260101_000003", "20260101_000004" })
        {
            store.Promote(As(trained, version));
        }

        Assert.Equal(["20260101_000003", "20260101_000004"], Directory.GetDirectories(store.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var abandoned = Directory.CreateDirectory(Path.Combine(store.Directory, ".staging-20260101_000005-abc"));
        File.WriteAllText(Path.Combine(abandoned.FullName, "model.nsm"), "half");
        Directory.SetLastWriteTimeUtc(abandoned.FullName, DateTime.UtcNow.AddHours(-1));
        var fresh = Directory.CreateDirectory(Path.Combine(store.Directory, ".staging-20260101_000006-def"));
        var pointerTemp = Path.Combine(store.Directory, ".CURRENT.0123abc.tmp"); // a CURRENT write killed half-way
        File.WriteAllText(pointerTemp, "2026");
        File.SetLastWriteTimeUtc(pointerTemp, DateTime.UtcNow.AddHours(-1));
        var download = Directory.CreateDirectory(store.NewDownloadFolder()); // a replica's download killed half-way
        Directory.SetLastWriteTimeUtc(download.FullName, DateTime.UtcNow.AddHours(-1));
        var olderDownload = Directory.CreateDirectory(Path.Combine(store.Directory, ".pull-0123")); // the earlier name
        Directory.SetLastWriteTimeUtc(olderDownload.FullName, DateTime.UtcNow.AddHours(-1));
        Assert.StartsWith(".download-", download.Name);
        Assert.Equal([abandoned.Name, download.Name, ".pull-0123", ".CURRENT.0123abc.tmp"], store.RemoveAbandonedStaging(TimeSpan.FromMinutes(10)));
        Assert.False(Directory.Exists(abandoned.FullName));
        Assert.False(Directory.Exists(download.FullName));
        Assert.False(File.Exists(pointerTemp));
        Assert.True(Directory.Exists(fresh.FullName)); // may belong to a promotion running right now
        Assert.Equal("20260101_000004", store.CurrentVersion);
    }

    [Fact]
    public async Task A_promotion_whose_pointer_cannot_be_written_leaves_no_version_folder_behind()
    {
        using var dir = new TempDirectory();
        var trained = await TrainAsync(dir);
        var store = new ModelStore(Path.Combine(dir.Path, "store"));
        store.Promote(As(trained, "20260101_000001"));

        // CURRENT cannot be replaced (here a folder stands in its place; a full disk fails the same write): the new
        // version's complete folder used to stay, and a restart that found CURRENT unusable served it.
        File.Delete(Path.Combine(store.Directory, "CURRENT"));
        Directory.CreateDirectory(Path.Combine(store.Directory, "CURRENT"));
        var error = Assert.Throws<PipelineException>(() => store.Promote(As(trained, "20260101_000002")));
        Assert.StartsWith("Model 20260101_000002 could not be made live: CURRENT could not be written (", error.Message);
        Assert.EndsWith("; its folder was removed and the previous model stays live.", error.Message);
        Assert.Equal(["20260101_000001", "CURRENT"], Directory.GetDirectories(store.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
