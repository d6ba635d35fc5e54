using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class ModelBundleTests
{
    [Fact]
    public async Task Loading_rejects_other_format_versions_other_schemas_and_damaged_files()
    {
        using var dir = new TempDirectory();
        var options = PipelineFactory.Options(dir, PipelineFactory.Sample(dir, 600));
        options.OverfittingThreshold = 1.0; // a small sample overfits; this test is about the file, not the gate
        await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        var store = new ModelStore(options.FinalModelDirectory);
        var path = Path.Combine(store.CurrentModelDirectory!, ModelStore.BundleFileName);
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var bytes = File.ReadAllBytes(path);

        var otherVersion = (byte[])bytes.Clone();
        BitConverter.GetBytes(99).CopyTo(otherVersion, 4);
        File.WriteAllBytes(Path.Combine(dir.Path, "v99.nsm"), otherVersion);
        var versionError = Assert.Throws<PipelineException>(() => ModelBundle.Load(Path.Combine(dir.Path, "v99.nsm"), schema));
        Assert.Contains("format version 99", versionError.Message);

        var otherSchema = schema with { Features = schema.Features.Take(29).ToArray() };
        var schemaError = Assert.Throws<PipelineException>(() => ModelBundle.Load(path, new DataSchema(1, otherSchema.Features, schema.Target, []) { Source = "other/schema.yaml" }));
        Assert.Contains("another feature schema", schemaError.Message);
        Assert.Contains("the fingerprint of 'other/schema.yaml'", schemaError.Message); // which schema file is in use
        Assert.Equal(TestPaths.SchemaFile, schema.Source);

        File.WriteAllBytes(Path.Combine(dir.Path, "cut.nsm"), bytes[..(bytes.Length / 2)]);
        var damaged = Assert.Throws<PipelineException>(() => ModelBundle.Load(Path.Combine(dir.Path, "cut.nsm"), schema));
        Assert.Contains("damaged or incomplete", damaged.Message);

        Assert.Equal(store.CurrentVersion, ModelBundle.Load(path, schema).Version);
    }

    [Fact]
    public async Task A_schema_whose_target_makes_another_class_phishing_is_refused_though_its_features_match()
    {
        // The fingerprint covers the features only: a schema edited to swap the class values loaded the model, and
        // every verdict and predicted label was the other class's.
        using var dir = new TempDirectory();
        var bundle = await ModelStoreIntegrityTests.TrainAsync(dir);
        var path = Path.Combine(new ModelStore(Path.Combine(dir.Path, "final_model")).CurrentModelDirectory!, ModelStore.BundleFileName);
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        Assert.Equal([new TargetClass(-1, "phishing"), new TargetClass(1, "legitimate")], bundle.Card.Classes);
        var swapped = schema with { Target = schema.Target with { Classes = [new TargetClass(1, "phishing"), new TargetClass(-1, "legitimate")] } };

        var error = Assert.Throws<PipelineException>(() => ModelBundle.Load(path, swapped));

        Assert.Equal(schema.Fingerprint, swapped.Fingerprint);
        Assert.Equal($"Model file '{path}' was trained with -1 (phishing) as phishing and 1 (legitimate) as legitimate, but the schema makes 1 (phishing) phishing and -1 (legitimate) legitimate: its verdicts and labels would be wrong (schema '{TestPaths.SchemaFile}'). Retrain the model.", error.Message);
        Assert.Equal(bundle.Version, ModelBundle.Load(path, schema).Version);
    }
}
