using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>evaluate's table on stdout, and nothing else there: the console log goes to stderr.</summary>
public sealed class EvaluateOutputTests
{
    [Fact]
    public void The_table_s_rows_stay_together_on_stdout_beside_the_log()
    {
        using var dir = new TempDirectory();
        var data = PipelineFactory.Sample(dir, 1200);
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "evaluate", "--data", data, "--mode", "gbdt", "--seeds", "1,2,3");

        Assert.True(code == 0, stdout + stderr);
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var header = lines.FindIndex(l => l.StartsWith("| seed | split |", StringComparison.Ordinal));
        Assert.True(header >= 0, stdout);
        // A log line ("[hh:mm:ss INF] Mean test F1 …") once landed between the header and its separator row.
        Assert.StartsWith("|---", lines[header + 1]);
        Assert.StartsWith("| 1 | stratified |", lines[header + 2]);
        Assert.StartsWith("| 2 | stratified |", lines[header + 3]);
        Assert.StartsWith("| 3 | stratified |", lines[header + 4]);
        Assert.StartsWith("| mean ± sd | stratified |", lines[header + 5]);
        // Every metric's mean with its standard deviation: the AUC's had none.
        Assert.All(lines[header + 5].Split('|')[5..9], cell => Assert.Matches(@"^ \d\.\d+ ± \d\.\d+ $", cell));
        // The phishing F1's mean too: its cell was blank, and on data with few phishing rows it is the figure that moves.
        var phishing = lines.Skip(header + 2).Take(3).Select(l => double.Parse(l.Split('|')[8], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var mean = lines[header + 5].Split('|')[8].Split('±');
        Assert.Equal(2, mean.Length);
        Assert.Equal(phishing.Average(), double.Parse(mean[0], System.Globalization.CultureInfo.InvariantCulture), 0.0001); // the seeds' cells are rounded
        // `evaluate > table.md` is the table alone: the log's lines ("[hh:mm:ss INF] Seed 1: …") were there too.
        Assert.Equal(0, header);
        Assert.All(lines.Where(l => l.Length > 0), l => Assert.StartsWith("|", l));
        Assert.Contains("INF] Mean test F1 over seeds 1,2,3", stderr);
    }
}
