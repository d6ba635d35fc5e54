using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>What train's log tells a user, from the real program on the whole bundled data set.</summary>
public sealed class TrainOutputTests
{
    [Fact]
    public void The_importance_line_says_how_many_of_the_test_rows_it_stands_for()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Tracking__Enabled"] = "false" },
            "train", "--data", TestPaths.DataFile, "--schema", TestPaths.SchemaFile, "--mode", "gbdt");

        Assert.True(code == 0, stdout + stderr);
        // 2,211 test rows hold more than 400 distinct vectors: the estimate covers some of them, and says so (it read
        // "on 466 test rows", as if the split had that many).
        Assert.Matches(@"Feature importance \(mean \|contribution\| on \d+ of 2211 test rows: at most 400 distinct vectors, each weighted by its copies; log_odds\)", stderr);
    }
}
