using System.Globalization;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>
/// An upgrade in place keeps final_model/: versions promoted by older builds (Fixtures/OlderModels, made by those builds)
/// are served with the very answers those builds gave, or refused saying why and what to do, and never removed.
/// </summary>
public sealed class OlderModelFolderTests
{
    private static readonly DataSchema Schema = SchemaLoader.Load(TestPaths.SchemaFile);

    private static string Fixtures => Path.Combine(TestPaths.RepositoryRoot, "tests", "NetworkSecurity.Pipeline.Tests", "Fixtures", "OlderModels");

    /// <summary>A final model folder holding the fixture's version, with CURRENT naming it, as the older build left it.</summary>
    private static ModelStore Install(TempDirectory dir, string commit, out string version)
    {
        var source = Directory.GetDirectories(Path.Combine(Fixtures, commit)).Single();
        version = Path.GetFileName(source);
        var store = new ModelStore(Path.Combine(dir.Path, "final_model"));
        var target = Path.Combine(store.Directory, version);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        File.WriteAllText(Path.Combine(store.Directory, "CURRENT"), version);
        return store;
    }

    private static FeatureMatrix Probe() =>
        FeatureMatrix.FromRows(File.ReadLines(Path.Combine(Fixtures, "probe.csv")).Skip(1)
            .Select(line => line.Split(',').Select(v => v.Length == 0 ? double.NaN : double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToArray());

    [Theory]
    [InlineData("ae6b0f3")] // classifier format 2, imputer payload 1, card without grid_entry
    [InlineData("a06e866")] // classifier format 2, imputer payload 2
    public void A_version_promoted_by_an_older_build_is_served_with_the_answers_that_build_gave(string commit)
    {
        using var dir = new TempDirectory();
        var store = Install(dir, commit, out var version);

        var result = store.LoadLatestValid(Schema);

        Assert.Empty(result.Skipped);
        var bundle = Assert.IsType<ModelBundle>(result.Bundle);
        Assert.Equal(version, bundle.Version);
        Assert.Equal("gradient_boosting", bundle.Card.Learner);
        Assert.NotNull(bundle.Card.Test);
        var probe = Probe();
        var legitimate = new double[probe.Rows];
        bundle.PredictProbabilities(probe, legitimate);
        var expected = File.ReadLines(Path.Combine(Fixtures, commit, "expected.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(expected.Length, probe.Rows);
        for (var i = 0; i < expected.Length; i++)
        {
            var phishing = 1 - legitimate[i];
            Assert.Equal(double.Parse(expected[i][1], CultureInfo.InvariantCulture), phishing, 6); // the older build printed 6 decimals
            Assert.Equal(expected[i][2], phishing >= 0.5 ? "phishing" : "legitimate");
        }
    }

    [Fact]
    public void A_model_an_older_build_learned_from_a_schema_listing_legitimate_first_is_refused_not_served_inverted()
    {
        // That build (2026-12-06) took the first class listed (0 legitimate) as phishing; this one takes the class named
        // phishing (1). Served, the model answered label 1 for the rows it had learned as 0, and kept the wrong verdicts.
        using var dir = new TempDirectory();
        var schemaFile = dir.File("schema01.yaml", File.ReadAllText(TestPaths.SchemaFile).Replace(
            "    - value: -1\n      name: phishing\n    - value: 1\n      name: legitimate", "    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing", StringComparison.Ordinal));
        var schema01 = SchemaLoader.Load(schemaFile);
        Assert.True(schema01.Target.ListedLegitimateFirst);
        var store = Install(dir, "8d0d087-labels01", out var version);

        var result = store.LoadLatestValid(schema01);

        Assert.Null(result.Bundle);
        var reason = Assert.Single(result.Skipped).Reason;
        Assert.Contains($"{version}/model.nsm' does not say which class it learned as phishing (its build did not record it), and builds before 2026-12-07 took the first class the schema lists, 0 (legitimate), where this build takes 1 (phishing): its verdicts and labels may be inverted (schema '{schemaFile}'). Retrain the model.", reason, StringComparison.Ordinal);
        // The same model with the bundled schema (phishing listed first) is no question: both rules agree.
        Assert.Equal(version, store.LoadLatestValid(SchemaLoader.Load(TestPaths.SchemaFile)).Bundle?.Version);
    }

    [Fact]
    public async Task A_version_promoted_before_manifests_is_refused_saying_so_and_to_retrain_and_is_kept()
    {
        using var dir = new TempDirectory();
        var store = Install(dir, "1b1f460", out var version);
        var folder = Path.Combine(store.Directory, version);
        var before = Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

        var result = store.LoadLatestValid(Schema);

        Assert.Null(result.Bundle);
        var reason = Assert.Single(result.Skipped).Reason;
        Assert.Contains($"Model {version}", reason, StringComparison.Ordinal);
        Assert.Contains("has no manifest.json", reason, StringComparison.Ordinal);
        Assert.Contains("versions promoted before 2026-11-25 have none", reason, StringComparison.Ordinal);
        Assert.Contains("Retrain to replace it", reason, StringComparison.Ordinal);
        // Its bytes are an older format this build still decodes: it is refused for the missing check alone.
        Assert.Equal(version, ModelBundle.Load(Path.Combine(folder, ModelStore.BundleFileName), Schema).Version);

        // Retraining promotes beside it and leaves the older build's folder as it was.
        var trained = await ModelStoreIntegrityTests.TrainAsync(dir);
        var retrained = new ModelBundle(trained.SchemaFingerprint, trained.FeatureNames, trained.Imputer, trained.Classifier, trained.Card with { Version = "20991231_000000" });
        store.Promote(retrained);
        Assert.Equal("20991231_000000", store.LoadLatestValid(Schema).Bundle?.Version);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(Path.Combine(folder, file.Key))));
    }
}
