using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// predict --explain kept every record's explanation until the output was written (400,000 distinct records took 1 GB,
/// with no limit): it now explains a batch at a time as it writes, with the very same columns and values.
/// </summary>
[Collection(TrainedModelCollection.Name)]
public sealed class PredictExplainStreamingTests(TrainedModelFixture model)
{
    [Fact]
    public async Task Predict_explains_a_file_of_several_batches_as_the_in_memory_path_does_reading_it_as_it_writes()
    {
        using var dir = new TempDirectory();
        var lines = File.ReadAllLines(TestPaths.DataFile);
        string Csv(int count) => lines[0] + "\n" + string.Join('\n', Enumerable.Range(0, count).Select(i => lines[1 + (i % (lines.Length - 1))])) + "\n";
        var rows = (2 * PhishingPredictor.ExplainBatchRows) + 5; // two whole batches and a part
        var text = Csv(rows);
        var input = dir.File("in.csv", text);
        var output = Path.Combine(dir.Path, "out.csv");

        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", input, "--output", output, "--explain", "all",
            "--schema", TestPaths.SchemaFile, "--final-model", model.FinalModelDirectory, "--logs", "none"]));

        // The explanations kept for every record, as the API makes them: the same file, byte for byte.
        var schema = SchemaLoader.Load(TestPaths.SchemaFile);
        var bundle = new ModelStore(model.FinalModelDirectory).LoadCurrent(schema)!;
        var predictor = new PhishingPredictor(schema);
        TextReader Open() => new StringReader(text);
        var kept = predictor.Score(bundle, Open, input, explainTop: schema.Features.Count);
        Assert.Equal(rows, kept.Count);
        using var expected = new StringWriter();
        await PredictionCsvWriter.WriteAsync(expected, kept, predictor.Records(kept, Open), CancellationToken.None);
        Assert.Equal(expected.ToString(), await File.ReadAllTextAsync(output));

        // Made as the records are read: of four batches, the first record comes before the reader is past the second.
        var four = Csv(4 * PhishingPredictor.ExplainBatchRows);
        var scored = predictor.Score(bundle, () => new StringReader(four), input);
        Assert.Null(scored.Explanations);
        var reader = new CountingReader(four);
        var first = predictor.ExplainedRecords(bundle, scored, () => reader, 3).First();
        Assert.Equal(3, first.Explanation!.Features.Count);
        Assert.True(reader.Served < four.Length / 2, $"read {reader.Served:N0} of {four.Length:N0} characters for the first record");
    }

    private sealed class CountingReader(string text) : StringReader(text)
    {
        public long Served { get; private set; }

        public override int Read(Span<char> buffer) => Count(base.Read(buffer));

        public override int Read(char[] buffer, int index, int count) => Count(base.Read(buffer, index, count));

        public override int ReadBlock(Span<char> buffer) => Count(base.ReadBlock(buffer));

        public override int Read()
        {
            var c = base.Read();
            Served += c < 0 ? 0 : 1;
            return c;
        }

        private int Count(int read)
        {
            Served += read;
            return read;
        }
    }
}
