using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>
/// Blank lines before the header are skipped by the reader, so the header is not always on line 1: every problem with
/// the header said "line 1" (and "no data rows" said "line 2") wherever the header was.
/// </summary>
public sealed class HeaderLineTests
{
    private const string TwoBlankLines = "\n\r\n";
    private static readonly string Header = File.ReadLines(TestPaths.DataFile).First();
    private static readonly string Row = File.ReadLines(TestPaths.DataFile).Skip(1).First();
    private static readonly DataSchema Schema = SchemaLoader.Load(TestPaths.SchemaFile);

    private static RawTable Read(string csv, CsvLimits? limits = null) => CsvTableReader.Read(new StringReader(csv), "x.csv", limits);

    [Fact]
    public void A_header_after_blank_lines_is_named_by_its_own_line_in_every_header_problem()
    {
        var separated = Assert.Throws<PipelineException>(() => Read(TwoBlankLines + "a;b\n1;2\n"));
        Assert.StartsWith("x.csv, line 3: expected comma- or tab-separated columns.", separated.Message);

        var noRows = Assert.Throws<PipelineException>(() => Read(TwoBlankLines + Header + "\n"));
        Assert.Equal("x.csv, line 4: the file has a header row but no data rows.", noRows.Message);

        var renamed = Header.Replace("having_IP_Address", "bogus", StringComparison.Ordinal);
        var missing = Assert.Throws<PipelineException>(() => DatasetParser.Parse(Read(TwoBlankLines + renamed + "\n" + Row + "\n"), Schema, requireTarget: true, allowUnknownColumns: false));
        Assert.StartsWith("x.csv, line 3 (header): missing column(s): having_IP_Address", missing.Message);
        Assert.All(missing.Problems, p => Assert.Equal("line 3", p.Location));

        var twice = Header + ",URL_Length";
        var clash = Assert.Throws<PipelineException>(() => DatasetParser.Parse(Read(TwoBlankLines + twice + "\n" + Row + ",1\n"), Schema, requireTarget: true, allowUnknownColumns: false));
        Assert.Equal("line 3", Assert.Single(clash.Problems).Location);
        Assert.Equal(32, clash.Problems[0].Column);

        var limits = new CsvLimits(MaxColumns: 2, MaxHeaderLength: 2000, MaxLineLength: 500, MaxCellLength: 50);
        var wide = Assert.Throws<InputLimitException>(() => Read(TwoBlankLines + "a,b,c\n1,2,3\n", limits));
        Assert.StartsWith("x.csv, line 3: the header has 3 columns", wide.Message);

        // Still line 1 without blank lines.
        Assert.StartsWith("x.csv, line 1: expected comma- or tab-separated columns.", Assert.Throws<PipelineException>(() => Read("a;b\n1;2\n")).Message);
        Assert.Equal(3, Read(TwoBlankLines + Header + "\n" + Row + "\n").HeaderLine);
    }

    [Fact]
    public void A_header_after_blank_lines_gets_the_header_length_limit_and_is_called_the_header()
    {
        var limits = new CsvLimits(MaxColumns: 40, MaxHeaderLength: 2000, MaxLineLength: 500, MaxCellLength: 50);
        var longNames = string.Join(',', Enumerable.Range(0, 30).Select(i => $"column_with_a_long_name_{i:00}"));
        Assert.InRange(longNames.Length, 501, 2000);

        // Within the header's limit: read, though longer than a data line may be (was "line 3: the line is longer than 500").
        Assert.Equal(30, Read(TwoBlankLines + longNames + "\n" + string.Join(',', Enumerable.Repeat("1", 30)) + "\n", limits).Columns.Count);

        var tooLong = Assert.Throws<InputLimitException>(() => Read(TwoBlankLines + new string(',', 3000) + "\n1\n", limits));
        Assert.StartsWith("x.csv, line 3: the header is longer than 2,000 characters", tooLong.Message);
    }
}
