using System.Globalization;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
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

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData("9")]
    [InlineData("-7")]
    [InlineData("-0")]
    public void The_one_digit_fast_path_reads_what_double_parse_reads(string cell)
    {
        Assert.True(RecordParser.TryParseDigit(cell, out var fast));
        var general = double.Parse(cell, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(BitConverter.DoubleToInt64Bits(general), BitConverter.DoubleToInt64Bits(fast)); // -0 stays -0
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("+1")]
    [InlineData("1.")]
    [InlineData("--")]
    [InlineData("a")]
    [InlineData("\u0661")] // an Arabic-Indic digit: not ASCII, left to the general parser (which rejects it)
    public void The_one_digit_fast_path_leaves_everything_else_to_the_general_parser(string? cell)
    {
        Assert.False(RecordParser.TryParseDigit(cell, out _));
    }

    [Fact]
    public void Allowed_values_are_checked_by_value()
    {
        var feature = Schema.Features[0];
        Assert.True(feature.Allows(-1.0));
        Assert.True(feature.Allows(1.0));
        Assert.False(feature.Allows(2.0));
        Assert.False(feature.Allows(0.5));
        Assert.True((feature with { AllowedValues = [] }).Allows(7.0));
    }

    [Fact]
    public void A_features_type_is_kept_int_takes_whole_numbers_float_any_finite_number_and_other_types_are_refused()
    {
        // The type was ignored: an int feature without an allowed list took 2.5, and "type: string" loaded.
        const string Yaml = "features:\n  - name: hops\n    type: int\n  - name: ratio\n    type: {0}\ntarget:\n  name: y\n  type: int\n"
            + "  classes:\n    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing\n";
        var schema = SchemaLoader.Parse(string.Format(CultureInfo.InvariantCulture, Yaml, "float"), "t.yaml");
        var (hops, ratio) = (schema.Features[0], schema.Features[1]);
        Assert.True(hops.Allows(300));
        Assert.False(hops.Allows(2.5));
        Assert.False(hops.Allows(double.PositiveInfinity));
        Assert.True(ratio.Allows(2.5));
        Assert.False(ratio.Allows(double.PositiveInfinity));

        var table = CsvTableReader.Read(new StringReader("y,hops,ratio\n1,2.5,0.5\n0,3,0.25\n"), "d.csv");
        var parsed = DatasetParser.Parse(table, schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Single(parsed.Valid.Labels);
        Assert.Equal("d.csv, line 2, column 2 (hops): 2.5 is not an allowed value (allowed: any whole number).", Assert.Single(Assert.Single(parsed.Invalid).Problems).ToString());

        Assert.Equal("Schema file 't.yaml': feature 'ratio' has type 'string': use int (whole numbers) or float.",
            Assert.Throws<PipelineException>(() => SchemaLoader.Parse(string.Format(CultureInfo.InvariantCulture, Yaml, "string"), "t.yaml")).Message);
        Assert.Equal("Schema file 't.yaml': the target 'y' has type 'float': use int (class values are whole numbers).",
            Assert.Throws<PipelineException>(() => SchemaLoader.Parse(string.Format(CultureInfo.InvariantCulture, Yaml, "int").Replace("  type: int\n  classes", "  type: float\n  classes", StringComparison.Ordinal), "t.yaml")).Message);
    }

    [Theory]
    [InlineData("  - name: a\n    aliases: [b]\n  - name: b\n", "", "the name 'b' is given to feature 'a' and to feature 'b'")]
    [InlineData("  - name: b\n  - name: a\n    aliases: [B]\n", "", "the name 'B' is given to feature 'b' and to feature 'a'")]
    [InlineData("  - name: a\n  - name: b\n", "  aliases: [a]\n", "the name 'a' is given to feature 'a' and to the target 'y'")]
    [InlineData("  - name: a\n  - name: b\n", "", "the name 'b' is given to feature 'b' and to the row-number columns (index_columns)", "index_columns: [b]\n")]
    public void A_name_given_to_two_columns_is_refused_naming_both(string features, string targetAliases, string message, string index = "")
    {
        // A CSV header read such a name as one column and a JSON record as the other (the feature listed last won).
        var yaml = $"features:\n{features}target:\n  name: y\n{targetAliases}  classes:\n    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing\n{index}";
        Assert.Equal($"Schema file 's.yaml': {message}; a column name must mean one thing.", Assert.Throws<PipelineException>(() => SchemaLoader.Parse(yaml, "s.yaml")).Message);
    }

    [Theory]
    [InlineData("  - name: 'at \"sym\"'\n  - name: b\n", "", "the name 'at \"sym\"' of feature 'at \"sym\"'", "at \"sym")]
    [InlineData("  - name: a\n    aliases: [' a2']\n  - name: b\n", "", "the name ' a2' of feature 'a'", "a2")]
    [InlineData("  - name: a\n  - name: b\n", "  aliases: ['label ']\n", "the name 'label ' of the target 'y'", "label")]
    public void A_name_no_column_could_match_is_refused_naming_it(string features, string targetAliases, string message, string read)
    {
        // A header cell is read without surrounding white space or double quotes: the CSV header "at ""sym""" (the
        // column at "sym") was read as at "sym, and training failed on a header holding exactly the schema's name.
        var yaml = $"features:\n{features}target:\n  name: y\n{targetAliases}  classes:\n    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing\n";
        Assert.Equal(
            $"Schema file 's.yaml': {message} starts or ends with white space or a double quote, which column names are read without ('{read}'), so no column could match it; remove them.",
            Assert.Throws<PipelineException>(() => SchemaLoader.Parse(yaml, "s.yaml")).Message);
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

    [Theory]
    [InlineData("    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing\n", 1, 0)] // 0/1 labels listed in value order
    [InlineData("    - value: 1\n      name: phishing\n    - value: 0\n      name: legitimate\n", 1, 0)]
    [InlineData("    - value: 1\n      name: Phishing\n    - value: 0\n      name: benign\n", 1, 0)]
    [InlineData("    - value: 5\n      name: bad\n    - value: 7\n      name: good\n", 5, 7)] // other names: phishing first, as listed
    public void The_class_named_phishing_is_label_0_whatever_the_listing_order(string classes, int phishingValue, int legitimateValue)
    {
        var schema = SchemaLoader.Parse(WithClasses(classes), "s.yaml");
        Assert.Equal(phishingValue, schema.Target.NegativeValue);
        Assert.Equal(legitimateValue, schema.Target.PositiveValue);
    }

    [Theory]
    [InlineData("    - value: 1\n      name: phishing\n    - value: 1\n      name: legitimate\n", "the two classes of the target 'Result' have the same value 1.")]
    [InlineData("    - value: 0\n      name: phishing\n    - value: 1\n      name: Phishing\n", "the two classes of the target 'Result' are both named 'phishing'.")]
    public void Target_classes_that_cannot_be_told_apart_are_refused_naming_the_file(string classes, string message)
    {
        var ex = Assert.Throws<PipelineException>(() => SchemaLoader.Parse(WithClasses(classes), "s.yaml"));
        Assert.Equal($"Schema file 's.yaml': {message}", ex.Message);
    }

    private static string WithClasses(string classes)
    {
        var text = File.ReadAllText(TestPaths.SchemaFile);
        var start = text.IndexOf("  classes:\n", StringComparison.Ordinal) + "  classes:\n".Length;
        var end = text.IndexOf("index_columns:", StringComparison.Ordinal);
        return text[..start] + classes + text[end..];
    }

    [Fact]
    public void Schema_file_errors_name_the_file()
    {
        var ex = Assert.Throws<PipelineException>(() => SchemaLoader.Parse("version: 1\nfeatures: []\n", "bad.yaml"));
        Assert.Contains("bad.yaml", ex.Message);
        Assert.Contains("no features", ex.Message);
        var missing = Assert.Throws<PipelineException>(() => SchemaLoader.Load("/nonexistent/schema.yaml"));
        Assert.Contains("/nonexistent/schema.yaml", missing.Message);

        // A misspelt key is named with where it is, not with the loader's own type names.
        var unknown = Assert.Throws<PipelineException>(() => SchemaLoader.Parse("version: 1\nfeatures:\n  - name: a\n    alowed: [-1, 1]\n", "typo.yaml"));
        Assert.Equal("Schema file 'typo.yaml', line 4, column 5: unknown key 'alowed' in a feature (keys: name, type, allowed, aliases).", unknown.Message);
        Assert.Contains("unknown key 'featurs' in the schema", Assert.Throws<PipelineException>(() => SchemaLoader.Parse("version: 1\nfeaturs: []\n", "t.yaml")).Message);
    }

    [Theory]
    [InlineData("features:\n  - name: a\n    type: float\n    allowed: [0.5, 1.5]\n", "line 4, column 15: '0.5' is not a whole number")] // "Could not find any recognizable digits."
    [InlineData("features:\n  - name: a\n    allowed: [-1, 0, 99999999999]\n", "line 3, column 22: '99999999999' is not a whole number")]
    [InlineData("features:\n  - name: a\ntarget:\n  name: y\n  classes:\n    - value: yes\n    - value: 'no'\n", "line 6, column 14: 'yes' is not a whole number")] // "The input string 'yes' was not in a correct format."
    public void A_value_that_is_not_a_whole_number_is_named_with_the_rule(string yaml, string message)
    {
        var ex = Assert.Throws<PipelineException>(() => SchemaLoader.Parse(yaml, "s.yaml"));
        Assert.StartsWith("Schema file 's.yaml', ", ex.Message);
        Assert.Contains(message, ex.Message);
        Assert.Contains("allowed values, class values and the version are whole numbers", ex.Message);
    }

    [Fact]
    public void A_folder_or_a_pipe_given_as_the_grid_or_schema_is_refused_not_read()
    {
        using var dir = new TempDirectory();
        Assert.Equal($"Grid file '{dir.Path}' is a folder; give the file.", Assert.Throws<PipelineException>(() => Training.GridFile.Load(dir.Path)).Message);
        Assert.Equal($"Schema file '{dir.Path}' is a folder; give the file.", Assert.Throws<PipelineException>(() => SchemaLoader.Load(dir.Path)).Message);

        // A pipe with no writer: reading it waited for ever (and ignored SIGTERM).
        var fifo = Path.Combine(dir.Path, "grid.yaml");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!)
        {
            mkfifo.WaitForExit();
        }

        Assert.Equal($"Grid file '{fifo}' is not a regular file (a device, pipe or socket).", Assert.Throws<PipelineException>(() => Training.GridFile.Load(fifo)).Message);
    }

    [Fact]
    public void An_unclosed_list_in_a_yaml_file_is_named_with_its_file_and_line_not_an_unexpected_error()
    {
        // YAML's parser gives up on these with an InvalidOperationException that says nothing of where.
        var grid = Assert.Throws<PipelineException>(() => Training.GridFile.Parse("learners:\n  gradient_boosting:\n    n_estimators: [20, 40\n   max_depth: 3\n", "g.yaml"));
        Assert.Contains("Grid file 'g.yaml'", grid.Message);
        Assert.Contains("line 3", grid.Message);
        Assert.Contains("'[' is not closed", grid.Message);

        var schema = Assert.Throws<PipelineException>(() => SchemaLoader.Parse("version: 1\nfeatures: [a, b\n  target: x\n", "s.yaml"));
        Assert.Contains("Schema file 's.yaml'", schema.Message);
        Assert.Contains("line 2", schema.Message);
    }
}
