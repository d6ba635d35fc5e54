using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>Limits enforced while reading, records with too much missing, cancellation and formula neutralisation.</summary>
public sealed class HostileInputTests
{
    private static readonly CsvLimits Small = new(MaxColumns: 40, MaxHeaderLength: 2000, MaxLineLength: 500, MaxCellLength: 50);
    private static readonly string Header = File.ReadLines(TestPaths.DataFile).First();

    private static void ReadAll(string csv, CsvLimits limits)
    {
        var (_, records) = CsvTableReader.Open(new StringReader(csv), "up.csv", limits);
        foreach (var _ in records)
        {
        }
    }

    [Fact]
    public void Csv_size_limits_are_enforced_while_reading_with_a_located_message()
    {
        var manyColumns = Assert.Throws<InputLimitException>(() => ReadAll(string.Join(',', Enumerable.Range(0, 41).Select(i => $"c{i}")) + "\n1\n", Small));
        Assert.Contains("41 columns; at most 40", manyColumns.Message);

        // A header of commas far longer than the limit fails after the limit, not after buffering it.
        var reader = new CountingReader(new string(',', 10_000_000) + "\n");
        var longHeader = Assert.Throws<InputLimitException>(() => CsvTableReader.Open(reader, "up.csv", Small));
        Assert.Contains("line 1: the header is longer than 2,000 characters", longHeader.Message);
        Assert.True(reader.Served < 200_000, $"read {reader.Served:N0} characters");

        var longLine = Assert.Throws<InputLimitException>(() => ReadAll("a,b\n1,2\n" + new string('9', 600) + ",1\n", Small));
        Assert.Contains("line 3: the line is longer than 500", longLine.Message);

        var longCell = Assert.Throws<InputLimitException>(() => ReadAll("a,b\n1," + new string('x', 51) + "\n", Small));
        Assert.Contains("line 2, column 2: the cell is 51 characters long", longCell.Message);

        ReadAll("a,b\n1,2\n", Small); // within every limit
    }

    [Fact]
    public void A_quoted_field_broken_into_short_lines_is_one_line_for_the_limit_and_fails_after_it_not_after_buffering()
    {
        // Every physical line is short, but an unclosed quote makes the rest of the text one header or one cell: the
        // parser buffered all of it (a 1 GB file took 4.5 GB) before the cell length was checked.
        var manyShortLines = string.Concat(Enumerable.Repeat(new string('x', 49) + "\n", 200_000));
        var header = new CountingReader("\"" + manyShortLines);
        var longHeader = Assert.Throws<InputLimitException>(() => CsvTableReader.Open(header, "up.csv", Small));
        Assert.Matches(@"^up\.csv, line 1: the header is longer than 2,000 characters \(a quoted field that starts on it runs on past line \d\d: check for a missing closing quote\)\.$", longHeader.Message);
        Assert.True(header.Served < 200_000, $"read {header.Served:N0} characters");

        var cell = new CountingReader("a,b\n1,2\n3, \"" + manyShortLines + "\",4\n");
        var longLine = Assert.Throws<InputLimitException>(() => ReadAll(cell, Small));
        Assert.Matches(@"^up\.csv, line 3: the line is longer than 500 characters \(a quoted field that starts on it runs on past line \d\d: check for a missing closing quote\)\.$", longLine.Message);
        Assert.True(cell.Served < 200_000, $"read {cell.Served:N0} characters");

        // Quoted cells with line breaks, doubled quotes and delimiters, each line within the limit, however many there
        // are (a quote inside a quoted cell does not open or close anything).
        var fine = "a,b\n" + string.Concat(Enumerable.Repeat("\"say \"\"hi\"\",\nthen\r\n\"\"go\"\"\",\"x\"\"\"\r\n1, \"\"\"x\"\"\"\n", 2000));
        var (_, records) = CsvTableReader.Open(new StringReader(fine), "up.csv", Small);
        var read = records.ToList();
        Assert.Equal(4000, read.Count);
        Assert.Equal<string?[]>(["say \"hi\",\nthen\r\n\"go\"", "x\""], read[0].Values);
        Assert.Equal<string?[]>(["1", "\"x\""], read[1].Values);
    }

    [Fact]
    public void Lines_ended_by_a_lone_carriage_return_are_lines_for_the_limit_as_for_the_parser()
    {
        // Classic Mac line ends: the parser reads each as a line, so the limit must too (11,055 such rows were refused
        // as a header longer than 64 K characters).
        var crOnly = "a,b\r" + string.Concat(Enumerable.Repeat("1,2\r", 1000));
        var (_, records) = CsvTableReader.Open(new StringReader(crOnly), "up.csv", Small);
        Assert.Equal(1000, records.Count());

        var longLine = Assert.Throws<InputLimitException>(() => ReadAll(new StringReader("a,b\r1,2\r" + new string('9', 600) + ",1\r"), Small));
        Assert.Equal("up.csv, line 3: the line is longer than 500 characters.", longLine.Message);
        // CRLF is one line break, not two.
        var crlf = Assert.Throws<InputLimitException>(() => ReadAll(new StringReader("a,b\r\n1,2\r\n" + new string('9', 600) + ",1\r\n"), Small));
        Assert.Equal("up.csv, line 3: the line is longer than 500 characters.", crlf.Message);
    }

    private static void ReadAll(TextReader reader, CsvLimits limits)
    {
        var (_, records) = CsvTableReader.Open(reader, "up.csv", limits);
        foreach (var _ in records)
        {
        }
    }

    [Fact]
    public async Task Records_with_more_than_the_allowed_share_of_missing_features_are_invalid_with_a_reason()
    {
        using var dir = new TempDirectory();
        var bundle = await ModelStoreIntegrityTests.TrainAsync(dir);
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var row = File.ReadLines(TestPaths.DataFile).Skip(1).First().Split(',');
        var sixteenMissing = string.Join(',', row.Select((v, i) => i < 16 ? "" : v));
        var fifteenMissing = string.Join(',', row.Select((v, i) => i < 15 ? "na" : v));
        var csv = $"{Header}\n{fifteenMissing}\n{sixteenMissing}\n{new string(',', 30)}\n";
        var predictor = new PhishingPredictor(schema);
        var error = Assert.Throws<PipelineException>(() => predictor.Score(bundle, () => new StringReader(csv), "up.csv"));
        Assert.Equal(["line 3", "line 4"], error.Problems.Select(p => p.Location).Distinct());
        Assert.Contains("16 of 30 features are missing; at most 15 may be", error.Problems[0].Message);
        Assert.Contains(error.Problems, p => p.Location == "line 4" && p.Message.Contains("30 of 30", StringComparison.Ordinal));

        // Cancellation stops scoring.
        var many = Header + "\n" + string.Concat(Enumerable.Repeat(fifteenMissing + "\n", 5000));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => predictor.Score(bundle, () => new StringReader(many), "up.csv", cancellationToken: cancelled.Token));
        Assert.Equal(5000, predictor.Score(bundle, () => new StringReader(many), "up.csv").Count);
    }

    [Fact]
    public void The_data_hash_is_taken_in_place_without_a_copy_of_the_rows()
    {
        // A copy of every row as bytes doubled the features' memory, and at 8.9 million rows of 30 features its int
        // size overflowed: `train` on a 630 MB file failed as "Invalid configuration: Arithmetic operation resulted in
        // an overflow", exit code 2. The hash stays the SHA-256 of the features' bytes followed by the labels'.
        const int rows = 100_000;
        var values = new double[rows * 30];
        var labels = new int[rows];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (i % 3) - 1;
        }

        labels.AsSpan(rows / 2).Fill(1);
        var data = new Data.NetworkDataset(new Learning.Data.FeatureMatrix(values, rows, 30), labels, new string[rows]);
        Stages.DataIngestionStage.HashOf(data); // warm: the first call's one-off allocations are not the point

        var before = GC.GetAllocatedBytesForCurrentThread();
        var hash = Stages.DataIngestionStage.HashOf(data);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < values.Length, $"{allocated:N0} bytes allocated to hash {values.Length * 8L:N0} bytes of features");
        var bytes = new byte[(values.Length * 8) + (labels.Length * 4)];
        Buffer.BlockCopy(values, 0, bytes, 0, values.Length * 8);
        Buffer.BlockCopy(labels, 0, bytes, values.Length * 8, labels.Length * 4);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), hash);
    }

    [Fact]
    public void Training_data_validation_reports_rows_with_too_much_missing()
    {
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var lines = File.ReadLines(TestPaths.DataFile).Take(3).ToArray();
        var cells = lines[2].Split(',');
        lines[2] = string.Join(',', cells.Select((v, i) => i < 20 ? "" : v));
        var parsed = Data.DatasetParser.Parse(CsvTableReader.Read(new StringReader(string.Join('\n', lines) + "\n"), "train.csv"), schema, true, false);
        var invalid = Assert.Single(parsed.Invalid);
        Assert.Equal("line 3", invalid.Location);
        Assert.Contains(invalid.Problems, p => p.Message.Contains("20 of 30 features are missing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pipeline_validation_report_lists_rows_with_too_much_missing_and_the_share_is_configurable()
    {
        using var dir = new TempDirectory();
        var sample = PipelineFactory.Sample(dir, 400);
        var lines = File.ReadAllLines(sample);
        lines[10] = string.Join(',', lines[10].Split(',').Select((v, i) => i < 12 ? "" : v)); // 12 of 30 missing
        File.WriteAllLines(sample, lines);
        var options = PipelineFactory.Options(dir, sample);
        options.MaxInvalidRowFraction = 0.01;
        options.MaxMissingFeatureFraction = 0.3; // at most 9 of 30

        var result = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        var invalid = File.ReadAllText(Path.Combine(result.ArtifactDirectory, "data_validation/invalid/invalid_records.csv"));
        Assert.Contains("line 11", invalid);
        Assert.Contains("12 of 30 features are missing; at most 9 may be", invalid);
    }

    [Fact]
    public async Task Data_of_one_class_fails_the_run_naming_the_file_and_the_counts()
    {
        using var dir = new TempDirectory();
        var sample = PipelineFactory.Sample(dir, 400);
        File.WriteAllLines(sample, File.ReadAllLines(sample).Where((l, r) => r == 0 || l.EndsWith(",-1", StringComparison.Ordinal)));
        var options = PipelineFactory.Options(dir, sample);

        var error = await Assert.ThrowsAsync<PipelineException>(() => PipelineFactory.Create(options).RunAsync(null, CancellationToken.None));
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(sample)}: the training rows must contain both classes \(phishing and legitimate\); got \d+ and 0\.$", error.Message);
    }

    [Fact]
    public async Task A_feature_column_empty_in_every_row_fails_validation_naming_it_and_promotes_nothing()
    {
        using var dir = new TempDirectory();
        var sample = PipelineFactory.Sample(dir, 400);
        // having_At_Symbol (column 4) empty everywhere: every row is still within its own missing share.
        File.WriteAllLines(sample, File.ReadAllLines(sample).Select((l, r) => r == 0 ? l : string.Join(',', l.Split(',').Select((v, i) => i == 3 ? "" : v))));
        var options = PipelineFactory.Options(dir, sample);

        var error = await Assert.ThrowsAsync<PipelineException>(() => PipelineFactory.Create(options).RunAsync(null, CancellationToken.None));
        Assert.Contains($"Validation failed: {sample}: Column having_At_Symbol has no value in any of the 320 training rows (every cell empty or na)", error.Message);
        Assert.False(File.Exists(Path.Combine(options.FinalModelDirectory, "CURRENT")));
        var report = File.ReadAllText(Directory.GetFiles(options.ArtifactsRoot, "report.yaml", SearchOption.AllDirectories).Single(f => f.Contains("data_validation" + Path.DirectorySeparatorChar + "report.yaml", StringComparison.Ordinal)));
        Assert.Contains("status: failed", report);
    }

    [Theory]
    [InlineData("=1+1", "'=1+1")]
    [InlineData(" =HYPERLINK(\"x\")", "' =HYPERLINK(\"x\")")]
    [InlineData("\u00A0\t+cmd", "'\u00A0\t+cmd")]
    [InlineData("\uFF1Dcmd|' /C calc'!A0", "'\uFF1Dcmd|' /C calc'!A0")]
    [InlineData("\uFF0B1", "'\uFF0B1")]
    [InlineData("\uFF0D1", "'\uFF0D1")]
    [InlineData("\uFF20SUM(A1)", "'\uFF20SUM(A1)")]
    [InlineData("  @x", "'  @x")]
    [InlineData("-1", "-1")]
    [InlineData(" -1", " -1")]
    [InlineData("phishing", "phishing")]
    [InlineData("a=b", "a=b")]
    [InlineData("-0.5e3", "-0.5e3")]
    [InlineData("-Infinity", "'-Infinity")] // not a number to a spreadsheet: run as the formula =-Infinity (#NAME?)
    [InlineData("+Infinity", "'+Infinity")]
    [InlineData("-NaN", "'-NaN")]
    public void Csv_formula_neutralisation_covers_leading_whitespace_and_full_width_forms(string cell, string expected) =>
        Assert.Equal(expected, PredictionCsvWriter.Neutralize(cell));

    private sealed class CountingReader(string text) : TextReader
    {
        private int _position;

        public int Served => _position;

        public override int Read(Span<char> buffer)
        {
            var n = Math.Min(buffer.Length, text.Length - _position);
            text.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read() => _position < text.Length ? text[_position++] : -1;

        public override int Peek() => _position < text.Length ? text[_position] : -1;
    }
}
