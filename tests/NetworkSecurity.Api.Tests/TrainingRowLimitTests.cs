using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Training is bounded: a data set with more records than Pipeline:MaxTrainingRows, or than fit in the memory the process
/// may use, is refused while it is read, with the file and the limit named, instead of being read until the system
/// kills the process (an 8.9-million-row file took 21 GB).
/// </summary>
public sealed class TrainingRowLimitTests
{
    [Fact]
    public void A_file_over_the_configured_row_limit_is_refused_while_it_is_read_naming_the_file_the_line_and_the_limit()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 300);
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" },
            "train", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt", "--Pipeline:MaxTrainingRows=100");

        Assert.True(code != 0, stdout + stderr);
        Assert.Contains($"{data}: line 102 is record 101, more than 100 records (the most Pipeline:MaxTrainingRows allows). Train on a sample of the rows, or raise Pipeline:MaxTrainingRows", stderr, StringComparison.Ordinal);
        AssertNothingWritten(dir);
    }

    [Fact]
    public void Without_a_configured_limit_a_file_larger_than_the_memory_allows_is_refused_before_it_is_all_read()
    {
        using var dir = new TempDirectory();
        const long heapLimit = 512L << 20; // the garbage collector's hard limit: the memory this process may use
        var fits = (heapLimit - PipelineOptions.TrainingBaseBytes) / PipelineOptions.BytesPerTrainingRow;
        var data = Path.Combine(dir.Path, "large.csv");
        var lines = File.ReadAllLines(TestPaths.DataFile);
        File.WriteAllLines(data, lines.Take(1).Concat(Enumerable.Range(0, (int)fits + 5_000).Select(i => lines[1 + (i % (lines.Length - 1))])));
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false", ["DOTNET_GCHeapHardLimit"] = $"0x{heapLimit:X}" },
            "train", "--data", data, "--schema", TestPaths.SchemaFile, "--mode", "gbdt");

        Assert.True(code != 0, stdout + stderr);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{data}: line {fits + 2} is record {fits + 1:N0}, more than {fits:N0} records (the most that fit in the 512 MiB this process may use, beside about 320 MiB for training itself and at about {PipelineOptions.BytesPerTrainingRow:N0} bytes a record: the automatic limit, as Pipeline:MaxTrainingRows is 0)."),
            stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("OutOfMemory", stdout + stderr, StringComparison.Ordinal);
        AssertNothingWritten(dir);
    }

    private static void AssertNothingWritten(TempDirectory dir)
    {
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "final_model")), "no model may be promoted");
        var artifacts = Path.Combine(dir.Path, "Artifacts");
        Assert.Empty(Directory.Exists(artifacts) ? Directory.EnumerateFiles(artifacts, "*", SearchOption.AllDirectories) : []);
    }
}
