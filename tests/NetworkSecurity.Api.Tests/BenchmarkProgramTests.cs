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
    [InlineData("unknown benchmark 'engine': use one of learners, search, engines,", "engine")]
    [InlineData("mongodb: unknown option '--bogus'", "mongodb", "--bogus")]
    [InlineData("mongodb: --uri needs a value", "mongodb", "--uri")]
    [InlineData("mongodb: --batch-size 'abc'", "mongodb", "--batch-size", "abc")]
    [InlineData("mongodb: --batch-size '0'", "mongodb", "--batch-size", "0")]
    [InlineData("mongodb: --repeat '0'", "mongodb", "--repeat", "0")]
    [InlineData("mongodb: --uri 'notauri'", "mongodb", "--uri", "notauri")]
    [InlineData("mongodb: --uri is given more than once: give it once.", "mongodb", "--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "--uri", "mongodb://127.0.0.1:2/?serverSelectionTimeoutMS=500")] // took the last
    [InlineData("mongodb: --repeat is given more than once: give it once.", "mongodb", "--repeat", "1", "--repeat", "1", "--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500")]
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

    [Fact]
    public async Task The_mongodb_run_drops_the_collections_it_made_on_the_server_given()
    {
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        server.Insert("networksecurity_bench", "Other", "{\"kept\": 1}");

        var (code, stdout, stderr) = ProgramProcess.Execute(
            StartInfo("mongodb", "--uri", $"mongodb://127.0.0.1:{server.Port}", "--repeat", "1"), 300, "the mongodb benchmark");

        Assert.True(code == 0, stderr);
        Assert.Contains("| push-data 110,550 rows (10×), batches of 1000 |", stdout);
        Assert.Empty(server.Documents("networksecurity_bench", "NetworkData"));
        Assert.Empty(server.Documents("networksecurity_bench", "WarmUp"));
        Assert.Single(server.Documents("networksecurity_bench", "Other"));
    }

    [Fact]
    public void An_unreachable_mongodb_is_one_message_and_leaves_no_file()
    {
        using var temp = new TempDirectory();
        var start = StartInfo("mongodb", "--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000", "--repeat", "1");
        start.Environment["TMPDIR"] = temp.Path;

        var (code, stdout, stderr) = ProgramProcess.Execute(start, 120, "the mongodb benchmark against no server");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("no MongoDB server answered within 1 s", stderr);
        Assert.EndsWith("mongodb: the push phase failed (exit code 1).\n", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.Empty(Directory.GetFiles(temp.Path, "ns-bench-*"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // SIGTERM and /proc
    public void A_stopped_mongodb_run_leaves_no_file_and_no_process()
    {
        using var temp = new TempDirectory();
        using var run = StartInTemp(temp.Path, "mongodb", "--repeat", "1");
        try
        {
            // Stopped while its 10x copy of the data set exists and a phase runs in a child process.
            var copy = Path.Combine(temp.Path, $"ns-bench-{run.Id}-x10.csv");
            for (var i = 0; i < 600 && !File.Exists(copy) && !run.HasExited; i++)
            {
                Thread.Sleep(200);
            }

            Assert.True(File.Exists(copy), "the run wrote its copy of the data set");
            using (var kill = Process.Start("kill", ["-TERM", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(run.WaitForExit(60_000), "SIGTERM stopped the run");
        }
        finally
        {
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true);
            }
        }

        Assert.Empty(Directory.GetFiles(temp.Path, "ns-bench-*"));
        // Its children (the test server and the running phase) end with it rather than finishing on their own.
        for (var i = 0; i < 100 && ProcessesWith(temp.Path) > 0; i++)
        {
            Thread.Sleep(100);
        }

        Assert.Equal(0, ProcessesWith(temp.Path));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // SIGKILL and /proc
    public async Task A_phase_whose_run_ended_without_stopping_it_ends_with_the_run()
    {
        // A run that ends without killing its phase (a SIGKILL, or a SIGTERM handled while Process.Start was still
        // creating the phase, before the handler could know of it) left the phase running: CI found one benchmark
        // process left after a stopped run. Here the phase waits on a server that never answers its insert, so it would
        // outlive the run by a 60 s socket timeout and a retry.
        await using var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        server.Stall = c => c.GetElement(0).Name == "insert";
        using var temp = new TempDirectory();
        using var run = StartInTemp(temp.Path, "mongodb", "--uri", server.ConnectionString, "--repeat", "1");
        try
        {
            for (var waited = Stopwatch.StartNew(); !server.Commands.Contains("insert") && !run.HasExited && waited.Elapsed < TimeSpan.FromSeconds(120);)
            {
                await Task.Delay(100);
            }

            Assert.True(server.Commands.Contains("insert"), "no phase reached its first insert");
            Assert.Equal(1, ProcessesWith(temp.Path, "mongodb-phase"));
        }
        finally
        {
            run.Kill(); // the run only, as a SIGKILL leaves its children
            run.WaitForExit();
        }

        for (var waited = Stopwatch.StartNew(); ProcessesWith(temp.Path) > 0 && waited.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, ProcessesWith(temp.Path));
    }

    // Processes of the benchmark program whose TMPDIR is this test's folder: the run and the children it started.
    private static int ProcessesWith(string tmpdir, string argument = "NetworkSecurity.Benchmarks.dll") => Directory.GetDirectories("/proc").Count(dir =>
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(argument, StringComparison.Ordinal)
                && File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains($"TMPDIR={tmpdir}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // gone meanwhile, or another user's
        }
    });

    private static (int Code, string Stdout, string Stderr) Run(params string[] arguments) =>
        ProgramProcess.Execute(StartInfo(arguments), 60, $"the benchmark program ({string.Join(' ', arguments)}; it ran a benchmark)");

    // A run whose temporary files go to its own folder, its output drained (a full pipe would block it).
    private static Process StartInTemp(string tempFolder, params string[] arguments)
    {
        var start = StartInfo(arguments);
        start.Environment["TMPDIR"] = tempFolder;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var run = Process.Start(start)!;
        _ = run.StandardOutput.ReadToEndAsync();
        _ = run.StandardError.ReadToEndAsync();
        return run;
    }

    private static ProcessStartInfo StartInfo(params string[] arguments)
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

        return start;
    }
}
