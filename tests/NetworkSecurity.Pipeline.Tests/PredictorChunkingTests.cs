using System.Globalization;
using NetworkSecurity.Learning.Metrics;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>
/// <see cref="PhishingPredictor.Score"/> parses the next chunk while the previous one is imputed and scored: every
/// record must still get its own probability, in order, and errors and cancellation must surface as before.
/// </summary>
public sealed class PredictorChunkingTests(PredictorChunkingTests.Trained trained) : IClassFixture<PredictorChunkingTests.Trained>
{
    private static readonly string Header = File.ReadLines(TestPaths.DataFile).First();

    /// <summary>Two and a half chunks of data-set rows, every other one with 1-3 cells emptied.</summary>
    private static (string Csv, double[][] Features) Upload()
    {
        var rows = File.ReadLines(TestPaths.DataFile).Skip(1).Where(l => l.Length > 0).ToArray();
        var random = new Random(3);
        var count = (PhishingPredictor.ChunkRows * 5 / 2) + 17;
        var lines = new List<string> { Header };
        var features = new double[count][];
        for (var i = 0; i < count; i++)
        {
            var cells = rows[i % rows.Length].Split(',');
            if (i % 2 == 1)
            {
                for (var h = 0; h <= i % 3; h++)
                {
                    cells[random.Next(30)] = "";
                }
            }

            lines.Add(string.Join(',', cells));
            features[i] = cells.Take(30).Select(c => c.Length == 0 ? double.NaN : double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        }

        return (string.Join('\n', lines) + "\n", features);
    }

    /// <summary>One model and one upload, shared by the tests (none changes them).</summary>
    public sealed class Trained : IAsyncLifetime
    {
        private readonly TempDirectory _dir = new();

        public ModelBundle Bundle { get; private set; } = null!;

        public PhishingPredictor Predictor { get; } = new(SchemaLoader.Load(TestPaths.SchemaFile));

        public (string Csv, double[][] Features) Upload { get; } = PredictorChunkingTests.Upload();

        public async Task InitializeAsync() => Bundle = await ModelStoreIntegrityTests.TrainAsync(_dir);

        public Task DisposeAsync()
        {
            _dir.Dispose();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void Explanation_batches_are_sized_toward_a_quarter_second_so_a_budget_or_a_leaving_client_stops_them_soon()
    {
        Assert.Equal(512, VerdictExplainer.NextBatchRows(256, TimeSpan.FromSeconds(0.05))); // fast: at most doubles
        Assert.Equal(64, VerdictExplainer.NextBatchRows(256, TimeSpan.FromSeconds(1))); // a slow model: a quarter
        Assert.Equal(4096, VerdictExplainer.NextBatchRows(4096, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(16, VerdictExplainer.NextBatchRows(16, TimeSpan.FromSeconds(10)));
        Assert.Equal(512, VerdictExplainer.NextBatchRows(256, TimeSpan.Zero));
    }

    [Fact]
    public void Every_record_of_an_upload_of_several_chunks_gets_its_own_probability_in_order()
    {
        var (bundle, predictor, (csv, features)) = (trained.Bundle, trained.Predictor, trained.Upload);

        var summary = predictor.Score(bundle, () => new StringReader(csv), "up.csv");

        Assert.Equal(features.Length, summary.Count);
        for (var i = 0; i < features.Length; i++)
        {
            // One record alone: imputed and scored on its own, so chunking cannot have mixed it up with another.
            var alone = predictor.PhishingProbability(bundle, features[i]);
            Assert.True(Math.Abs(alone - summary.PhishingProbabilities[i]) <= 1e-12, $"record {i}: {summary.PhishingProbabilities[i]} vs {alone}");
        }

        Assert.Equal(summary.PhishingProbabilities.Count(DecisionRule.IsPhishing), summary.PhishingCount);
    }

    [Fact]
    public void A_bad_record_after_chunks_were_scored_is_reported_unwrapped()
    {
        var (bundle, predictor, (csv, features)) = (trained.Bundle, trained.Predictor, trained.Upload);
        var broken = csv + "1,2\n";

        var error = Assert.Throws<PipelineException>(() => predictor.Score(bundle, () => new StringReader(broken), "up.csv"));
        Assert.Contains($"line {features.Length + 2}", error.Message);
    }

    [Fact]
    public void Features_empty_in_every_record_are_named_once_for_the_whole_input()
    {
        var (bundle, predictor) = (trained.Bundle, trained.Predictor);
        var rows = File.ReadLines(TestPaths.DataFile).Skip(1).Take(3).Select(l => l.Split(',')).ToArray();
        string Csv(Func<int, int, bool> empty, int count) => Header + "\n" + string.Join('\n', rows.Take(count).Select((cells, r) =>
            string.Join(',', cells.Select((cell, c) => empty(r, c) ? "" : cell)))) + "\n";
        PredictionSummary Score(string csv) => predictor.Score(bundle, () => new StringReader(csv), "up.csv");

        // SSLfinal_State (column 8) and port (11) empty throughout; URL_Length (2) empty in two records of three.
        var summary = Score(Csv((r, c) => c is 7 or 10 || (c == 1 && r < 2), 3));
        Assert.Equal(["SSLfinal_State", "port"], summary.EmptyFeatures);
        Assert.Equal("SSLfinal_State, port have no value in any of the 3 records: imputed in every one, so the verdicts rest on the other features only.", summary.EmptyFeaturesWarning);

        Assert.Empty(Score(Csv((r, c) => c == 1 && r < 2, 3)).EmptyFeatures);
        Assert.Null(Score(Csv((_, _) => false, 3)).EmptyFeaturesWarning);
        Assert.Empty(Score(Csv((_, c) => c == 7, 1)).EmptyFeatures); // one record with a missing value: plain imputation
        Assert.Equal(["SSLfinal_State"], Score(Csv((_, c) => c == 7, 2)).EmptyFeatures);
    }

    [Fact]
    public void Cancellation_while_chunks_are_being_scored_stops_the_scoring()
    {
        var (bundle, predictor, (csv, _)) = (trained.Bundle, trained.Predictor, trained.Upload);
        using var cancel = new CancellationTokenSource();

        // The token fires once the reader has served about 1.6 chunks: the first chunk is being (or was) scored then.
        var reader = new CancellingReader(csv, csv.Length * 16 / 25, cancel);
        Assert.ThrowsAny<OperationCanceledException>(() => predictor.Score(bundle, () => reader, "up.csv", cancellationToken: cancel.Token));
        Assert.True(reader.Served < csv.Length, "the whole upload was read despite the cancellation");
    }

    [Theory]
    [InlineData("shorter", "it has 7,000 records, not the")]
    [InlineData("longer", "it has more than the")]
    [InlineData("cut mid-record", "line 7002 has another number of fields than the header")]
    [InlineData("other header", "its header differs")]
    public void A_second_pass_that_reads_other_records_than_the_first_scored_is_refused_not_written_short(string change, string message)
    {
        // predict reads its file twice; one truncated at a record boundary while it was read again wrote the records
        // that were left, 7,000 of 20,000, and exited 0 (one cut mid-record failed "unexpectedly" in the CSV writer).
        var (bundle, predictor, (csv, _)) = (trained.Bundle, trained.Predictor, trained.Upload);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var summary = predictor.Score(bundle, () => new StringReader(csv), "up.csv");
        var again = change switch
        {
            "shorter" => string.Join('\n', lines.Take(7001)) + "\n",
            "longer" => csv + lines[1] + "\n",
            "cut mid-record" => string.Join('\n', lines.Take(7001)) + "\n" + string.Join(',', lines[7001].Split(',').Take(12)) + "\n",
            _ => "id," + csv,
        };

        var error = Assert.Throws<PipelineException>(() => predictor.Records(summary, () => new StringReader(again)).Count());
        Assert.Contains("up.csv changed while it was being scored", error.Message);
        Assert.Contains(message, error.Message);
        Assert.Equal(summary.Count, predictor.Records(summary, () => new StringReader(csv)).Count());
    }

    private sealed class CancellingReader(string text, int cancelAt, CancellationTokenSource cancel) : TextReader
    {
        public int Served { get; private set; }

        public override int Read(Span<char> buffer)
        {
            var n = Math.Min(Math.Min(buffer.Length, 4096), text.Length - Served);
            text.AsSpan(Served, n).CopyTo(buffer);
            Served += n;
            if (Served >= cancelAt)
            {
                cancel.Cancel();
            }

            return n;
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));
    }
}
