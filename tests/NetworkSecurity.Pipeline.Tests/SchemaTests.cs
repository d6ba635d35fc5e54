using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class SchemaTests
{
    private static readonly DataSchema Schema = SchemaLoader.Load(TestPaths.SchemaFile);

    [Fact]
    public void Bundled_schema_lists_the_thirty_features_and_the_target()
    {
        Assert.Equal(30, Schema.Features.Count);
        Assert.Equal("having_IP_Address", Schema.Features[0].Name);
        Assert.Equal("Statistical_report", Schema.Features[^1].Name);
        Assert.All(Schema.Features, f => Assert.Equal(new[] { -1, 0, 1 }, f.AllowedValues));
        Assert.Equal("Result", Schema.Target.Name);
        Assert.Equal(-1, Schema.Target.NegativeValue);
        Assert.Equal(1, Schema.Target.PositiveValue);
        Assert.Contains("port_no", Schema.Features.Single(f => f.Name == "port").Aliases);
    }

    [Fact]
    public void Fingerprint_depends_on_features_not_on_aliases()
    {
        var withoutAliases = Schema with { Features = Schema.Features.Select(f => f with { Aliases = [] }).ToArray() };
        var reordered = Schema with { Features = Schema.Features.Reverse().ToArray() };
        Assert.Equal(Schema.Fingerprint, new DataSchema(1, withoutAliases.Features, Schema.Target, []).Fingerprint);
        Assert.NotEqual(Schema.Fingerprint, new DataSchema(1, reordered.Features, Schema.Target, []).Fingerprint);
    }

    [Fact]
    public void Mapping_accepts_any_order_aliases_and_an_index_column()
    {
        var columns = new List<string> { "Unnamed: 0", "Result" };
        columns.AddRange(Schema.FeatureNames.Reverse().Select(n => n == "port" ? "port_no" : n));
        var mapping = ColumnMapping.Resolve(Schema, columns);

        Assert.Empty(mapping.MissingFeatures);
        Assert.Empty(mapping.Unknown);
        Assert.Equal(1, mapping.TargetSource);
        Assert.Equal(["Unnamed: 0"], mapping.Ignored);
        Assert.Equal(("port_no", "port"), Assert.Single(mapping.Renamed));
        Assert.Equal(columns.Count - 1, mapping.FeatureSources[0]); // having_IP_Address is last
    }

    [Fact]
    public void Mapping_reports_missing_and_unknown_columns()
    {
        var columns = Schema.FeatureNames.Where(n => n is not ("SFH" or "Iframe")).Append("colour").ToList();
        var mapping = ColumnMapping.Resolve(Schema, columns);
        Assert.Equal(["SFH", "Iframe"], mapping.MissingFeatures);
        Assert.Equal(["colour"], mapping.Unknown);
        Assert.False(mapping.HasTarget);
    }

    [Fact]
    public void Schema_file_errors_name_the_file()
    {
        var ex = Assert.Throws<PipelineException>(() => SchemaLoader.Parse("version: 1\nfeatures: []\n", "bad.yaml"));
        Assert.Contains("bad.yaml", ex.Message);
        Assert.Contains("no features", ex.Message);
        var missing = Assert.Throws<PipelineException>(() => SchemaLoader.Load("/nonexistent/schema.yaml"));
        Assert.Contains("/nonexistent/schema.yaml", missing.Message);
    }
}
