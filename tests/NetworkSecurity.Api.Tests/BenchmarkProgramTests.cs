using System.Diagnostics;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The README's benchmark program (src/NetworkSecurity.Benchmarks), run from the repository root as `dotnet run` runs
/// it, with arguments it must refuse before measuring anything.
/// </summary>
public sealed class BenchmarkProgramTests
{
    [Theory]
    [InlineData("seeds 'abc'", "engines-accuracy", "abc")]
    [InlineData("seeds '4-0'", "engines-accuracy", "4-0")]
    [InlineData("seeds '1,x'", "engines-accuracy", "1,x")]
    [InlineData("Grid file '/no/such/grid.yaml'", "search", "/no/such/grid.yaml")]
    [InlineData("Grid file 'data_schema/schema.yaml'", "search", "data_schema/schema.yaml")] // a file that is not a grid
    [InlineData("learners takes no arguments, not '600x64'", "learners", "600x64")]
    [InlineData("explain takes at most one argument, not '100x32 600x64'", "explain", "100x32", "600x64")]
    [InlineData("mongodb: unknown option '--bogus'", "mongodb", "--bogus")]
    [InlineData("mongodb: --uri needs a value", "mongodb", "--uri")]
    [InlineData("mongodb: --batch-size 'abc'", "mongodb", "--batch-size", "abc")]
    [InlineData("mongodb: --batch-size '0'", "mongodb", "--batch-size", "0")]
    [InlineData("mongodb: --repeat '0'", "mongodb", "--repeat", "0")]
    [InlineData("mongodb: --uri 'notauri'", "mongodb", "--uri", "notauri")]
    public void A_bad_argument_is_a_usage_error_naming_it(string named, params string[] arguments)
    {
        var (code, stdout, stderr) = Run(arguments);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith(named, stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.Contains("Usage: dotnet run -c Release --project src/NetworkSecurity.Benchmarks", stderr);
    }

    [Fact]
    public void A_bad_uri_is_refused_without_its_password()
    {
        var (code, _, stderr) = Run("mongodb", "--uri", "mongodb://alice:s3cret@");

        Assert.Equal(2, code);
        Assert.StartsWith("mongodb: --uri 'mongodb://alice:***@' is not a MongoDB connection string", stderr);
        Assert.DoesNotContain("s3cret", stderr);
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] arguments)
    {
        // Built beside this project's own output (same configuration) by the project reference that does not reference it.
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)));
        var program = Path.Combine(TestPaths.RepositoryRoot, "src", "NetworkSecurity.Benchmarks", "bin", configuration!, "net10.0", "NetworkSecurity.Benchmarks.dll");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = TestPaths.RepositoryRoot };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return ProgramProcess.Execute(start, 60, $"the benchmark program ({string.Join(' ', arguments)}; it ran a benchmark)");
    }
}
