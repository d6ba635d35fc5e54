using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class DatasetParserTests
{
    private static readonly DataSchema Schema = SchemaLoader.Load(TestPaths.SchemaFile);

    private static RawTable Table(params string[] rows)
    {
        var header = string.Join(',', Schema.FeatureNames.Append("Result"));
        return CsvTableReader.Read(new StringReader(header + "\n" + string.Join("\n", rows) + "\n"), "data.csv");
    }

    private static string Row(Func<int, string> feature, string result = "1") =>
        string.Join(',', Enumerable.Range(0, 30).Select(feature).Append(result));

    [Fact]
    public void Parses_values_and_maps_labels_to_zero_and_one()
    {
        var parsed = DatasetParser.Parse(Table(Row(_ => "1", "1"), Row(_ => "-1", "-1")), Schema, requireTarget: true, allowUnknownColumns: false);
        Assert.Empty(parsed.Invalid);
        Assert.Equal([1, 0], parsed.Valid.Labels);
        Assert.Equal(1.0, parsed.Valid.Features[0, 5]);
        Assert.Equal(-1.0, parsed.Valid.Features[1, 29]);
    }

    [Fact]
    public void Fields_known_by_name_only_are_named_without_a_column_number_or_a_header_line()
    {
        // Documents (MongoDB): a field's position is only the order it was first seen in, which no reader can count.
        var columns = Schema.FeatureNames.Append("Result").ToArray();
        var cells = Enumerable.Repeat<string?>("1", 31).ToArray();
        cells[4] = "abc";
        var table = new RawTable("db.sites", columns, [new RawRecord("document _id 7", cells)], Positional: false);
        var problem = Assert.Single(Assert.Single(DatasetParser.Parse(table, Schema, true, false).Invalid).Problems);
        Assert.Equal("db.sites, document _id 7 (double_slash_redirecting): 'abc' is not a number.", problem.ToString());

        var lacking = new RawTable("db.sites", columns[1..], [], Positional: false);
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(lacking, Schema, true, false));
        Assert.StartsWith("db.sites, field names: missing column(s): having_IP_Address", ex.Message);
        Assert.Equal("field names", Assert.Single(ex.Problems).Location);
    }

    [Fact]
    public void A_utf16_file_without_byte_order_mark_is_named_as_such_and_its_nul_characters_are_escaped()
    {
        // Read as UTF-8, "having_IP_Address" in UTF-16LE is "h\0a\0v\0...": NULs went raw into the console and the log.
        var header = string.Concat(string.Join(',', Schema.FeatureNames.Append("Result")).Select(c => $"{c}\0"));
        var table = new RawTable("utf16.csv", header.Split(','), []);
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, true, false));
        Assert.Contains("the header holds NUL characters: the file looks like UTF-16 without a byte order mark; save it as UTF-8", ex.Message);
        Assert.Contains("'h\\0a\\0v\\0i\\0n\\0g\\0_\\0I\\0P\\0_\\0A\\0d\\0d\\0r\\0e\\0s\\0s\\0' looks like having_IP_Address", ex.Message);
        Assert.DoesNotContain('\0', ex.Message);
    }

    [Fact]
    public void Empty_and_na_cells_become_missing_values()
    {
        var parsed = DatasetParser.Parse(Table(Row(i => i switch { 0 => "", 1 => "na", 2 => "NaN", _ => "0" })), Schema, true, false);
        Assert.Empty(parsed.Invalid);
        Assert.True(double.IsNaN(parsed.Valid.Features[0, 0]));
        Assert.True(double.IsNaN(parsed.Valid.Features[0, 1]));
        Assert.True(double.IsNaN(parsed.Valid.Features[0, 2]));
        Assert.Equal(0.0, parsed.Valid.Features[0, 3]);
    }

    [Fact]
    public void Bad_cells_are_reported_with_line_column_and_field()
    {
        var parsed = DatasetParser.Parse(
            Table(Row(_ => "1"), Row(i => i == 4 ? "abc" : "1"), Row(i => i == 7 ? "2" : "0", "5")),
            Schema, true, false);

        Assert.Single(parsed.Valid.Labels);
        Assert.Equal(2, parsed.Invalid.Count);
        var notNumber = Assert.Single(parsed.Invalid[0].Problems);
        Assert.Equal("line 3", notNumber.Location);
        Assert.Equal(5, notNumber.Column);
        Assert.Equal("double_slash_redirecting", notNumber.Field);
        Assert.Contains("'abc' is not a number", notNumber.Message);
        Assert.Equal("data.csv, line 3, column 5 (double_slash_redirecting): 'abc' is not a number.", notNumber.ToString());

        var outOfDomain = parsed.Invalid[1].Problems;
        Assert.Equal(2, outOfDomain.Count);
        Assert.Equal("SSLfinal_State", outOfDomain[0].Field);
        Assert.Contains("2 is not an allowed value", outOfDomain[0].Message);
        Assert.Equal("Result", outOfDomain[1].Field);
        Assert.Equal(31, outOfDomain[1].Column);
    }

    [Fact]
    public void Rows_with_another_number_of_fields_are_invalid_rows_beside_the_others_not_the_end_of_the_file()
    {
        var parsed = DatasetParser.Parse(
            Table(Row(_ => "1"), "1,1,1", Row(i => i == 2 ? "7" : "0", "-1"), Row(_ => "-1", "-1") + ",1", Row(_ => "0", "-1")),
            Schema, true, false);

        Assert.Equal([1, 0], parsed.Valid.Labels);
        Assert.Equal(["line 2", "line 6"], parsed.Valid.Locations);
        Assert.Equal(["line 3", "line 4", "line 5"], parsed.Invalid.Select(r => r.Location));
        Assert.Equal("data.csv, line 3: 3 fields but the header has 31 (check the delimiter and quoting).", Assert.Single(parsed.Invalid[0].Problems).ToString());
        Assert.Equal("Shortining_Service", Assert.Single(parsed.Invalid[1].Problems).Field);
        Assert.Contains("32 fields but the header has 31", Assert.Single(parsed.Invalid[2].Problems).Message);
        Assert.Equal(32, parsed.Invalid[2].Values.Length);
    }

    [Fact]
    public void A_cell_with_a_nul_character_is_not_a_number()
    {
        var parsed = DatasetParser.Parse(Table(Row(i => i == 0 ? "1\0" : "1"), Row(_ => "1", "1\0")), Schema, true, false);
        Assert.Empty(parsed.Valid.Labels);
        Assert.Equal("'1\\0' is not a number.", Assert.Single(parsed.Invalid[0].Problems).Message);
        Assert.Contains("'1\\0' is not a class of the target", Assert.Single(parsed.Invalid[1].Problems).Message);
    }

    [Theory]
    [InlineData("1e400", "'1e400' is not a finite number: it is beyond the largest number that can be read (about 1.8E+308).")] // said "is not a number"
    [InlineData("-1E999", "'-1E999' is not a finite number: it is beyond the largest number that can be read (about 1.8E+308).")]
    [InlineData("Infinity", "'Infinity' is not a finite number.")]
    [InlineData("abc", "'abc' is not a number.")]
    // Marks other tools write for a missing value (UCI's '?', a spreadsheet's #N/A): refused, as before, but saying how
    // this one writes it, since "is not a number" alone left 5,847 of 11,055 records of a '?'-marked copy to puzzle over.
    [InlineData("?", "'?' is not a number (a missing value is an empty cell, na or NaN).")]
    [InlineData(" #N/A ", "'#N/A' is not a number (a missing value is an empty cell, na or NaN).")]
    [InlineData("missing", "'missing' is not a number (a missing value is an empty cell, na or NaN).")]
    public void A_cell_that_is_a_number_out_of_range_is_said_to_be_one(string cell, string message)
    {
        var parsed = DatasetParser.Parse(Table(Row(i => i == 0 ? cell : "1")), Schema, true, false);
        Assert.Equal(message, Assert.Single(Assert.Single(parsed.Invalid).Problems).Message);
    }

    [Fact]
    public void Missing_columns_fail_with_the_header_named()
    {
        var header = string.Join(',', Schema.FeatureNames.Skip(1).Append("Result"));
        var table = CsvTableReader.Read(new StringReader(header + "\n" + string.Join(',', Enumerable.Repeat("1", 30)) + "\n"), "cols.csv");
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, true, false));
        Assert.Contains("cols.csv, line 1", ex.Message);
        Assert.Contains("missing column(s): having_IP_Address", ex.Message);
    }

    [Fact]
    public void Header_problems_say_what_the_header_probably_meant()
    {
        var row = string.Join(',', Enumerable.Repeat("1", 31));
        PipelineException Fail(string header, bool training = true) => Assert.Throws<PipelineException>(() =>
            DatasetParser.Parse(CsvTableReader.Read(new StringReader(header + "\n" + row + "\n"), "h.csv"), Schema, training, !training));

        // No header row: the first data row was read as one.
        var noHeader = Fail(string.Join(',', Enumerable.Repeat("-1", 31)));
        Assert.Contains("the first line looks like a data row, not a header", noHeader.Message);

        // Names written another way: said per column, never taken silently.
        var spaced = Fail(string.Join(',', Schema.FeatureNames.Select((n, i) => i == 0 ? "having IP Address" : i == 5 ? "prefix-suffix" : n).Append("Result")), training: false);
        Assert.Contains("missing column(s): having_IP_Address, Prefix_Suffix", spaced.Message);
        Assert.Contains("'having IP Address' looks like having_IP_Address (rename the column, or add it to the feature's aliases in the schema)", spaced.Message);
        Assert.Contains("'prefix-suffix' looks like Prefix_Suffix", spaced.Message);
        Assert.DoesNotContain("data row", spaced.Message);

        // A wide file's unknown columns: the first twelve named, the rest counted.
        var wide = Fail(string.Join(',', Schema.FeatureNames.Append("Result").Concat(Enumerable.Range(1, 20).Select(i => $"extra{i}"))));
        Assert.Contains("unknown column(s): extra1, extra2, extra3, extra4, extra5, extra6, extra7, extra8, extra9, extra10, extra11, extra12 and 8 more", wide.Message);
    }

    [Fact]
    public void Unknown_columns_fail_training_but_not_prediction()
    {
        var header = string.Join(',', Schema.FeatureNames.Append("Result").Append("comment"));
        var table = CsvTableReader.Read(new StringReader(header + "\n" + string.Join(',', Enumerable.Repeat("1", 31)) + ",hello\n"), "extra.csv");
        var ex = Assert.Throws<PipelineException>(() => DatasetParser.Parse(table, Schema, true, false));
        Assert.Contains("unknown column(s): comment", ex.Message);
        Assert.Single(DatasetParser.Parse(table, Schema, requireTarget: false, allowUnknownColumns: true).Valid.Labels);

        // A column that is no feature (a URL, a note) had no remedy in the message, which spoke of renamed features only:
        // it names the one that works, the schema's index_columns, which training leaves out.
        Assert.Contains("or to its index_columns to leave them out", ex.Message);
        var leftOut = Schema with { IndexColumns = [.. Schema.IndexColumns, "comment"] };
        Assert.Single(DatasetParser.Parse(table, leftOut, requireTarget: true, allowUnknownColumns: false).Valid.Labels);
    }

    [Fact]
    public void Duplicate_analysis_matches_the_data_set_readme()
    {
        var parsed = DatasetParser.Parse(CsvTableReader.ReadFile(TestPaths.DataFile), Schema, true, false);
        var duplicates = DuplicateAnalysis.Analyze(parsed.Valid.Features, parsed.Valid.Labels);
        Assert.Equal(11055, duplicates.Rows);
        Assert.Equal(5785, duplicates.DistinctVectors);
        Assert.Equal(5270, duplicates.DuplicateRows);
        Assert.Equal(64, duplicates.ConflictingVectors);
        Assert.Equal(357, duplicates.ConflictingRows);
        Assert.Equal(4898, parsed.Valid.CountOf(0));
        Assert.Equal(6157, parsed.Valid.CountOf(1));
    }
}
