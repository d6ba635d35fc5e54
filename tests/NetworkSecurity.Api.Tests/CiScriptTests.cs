using System.Diagnostics;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// .ci/run and scripts/test.sh, run by bash as CI runs them, in a copy of the repository's layout (the two scripts, a
/// prerequisite script and a tests/ folder of test projects) so that they never touch this run's TestResults. A
/// stand-in dotnet writes the result files (trx) a real test run writes, in the shapes seen from VSTest: a project
/// with a failing test, one whose test host crashed (outcome Failed, every counter 0), none at all for a project that
/// did not build.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // bash scripts and executable stand-ins
public sealed class CiScriptTests
{
    [Fact]
    public void A_failed_prerequisite_is_one_failure_not_the_last_runs_results()
    {
        // test.sh removed TestResults after the prerequisites: one that failed left the last run's trx files, and
        // .ci/run printed "812 passed, 1 failed" for a run that tested nothing.
        using var dir = new TempDirectory();
        var root = Layout(dir, projects: 2, prerequisite: "echo 'chromium: not installable' >&2\nexit 1", dotnet: "echo dotnet >> \"$ROOT/dotnet.called\"\nexit 0");
        Directory.CreateDirectory(Path.Combine(root, "TestResults"));
        File.WriteAllText(Path.Combine(root, "TestResults", "tests_net10.0_20261207120000.trx"), Trx("Completed", passed: 812, failed: 0, notExecuted: 3));

        var (code, stdout, _) = CiRun(root);

        Assert.NotEqual(0, code);
        Assert.Equal("0 passed, 1 failed, 0 skipped", LastLine(stdout));
        Assert.False(File.Exists(Path.Combine(root, "dotnet.called")), "no test ran after the failed prerequisite");
    }

    [Fact]
    public void A_crashed_test_host_and_a_project_that_did_not_build_are_counted_beside_a_failing_test()
    {
        // Three projects: one with a failing test, one whose test host crashed (its trx: outcome Failed, 0 failed), one
        // that did not build (no trx). The line said "1 passed, 1 failed": the crash and the broken project unseen.
        using var dir = new TempDirectory();
        var root = Layout(dir, projects: 3, prerequisite: "exit 0", dotnet: $$"""
            mkdir -p TestResults
            cat > TestResults/tests_net10.0_20261208013536.trx <<'TRX'
            {{Trx("Failed", passed: 1, failed: 1, notExecuted: 0)}}
            TRX
            cat > TestResults/tests_net10.0_20261208013459.trx <<'TRX'
            {{Trx("Failed", passed: 0, failed: 0, notExecuted: 0)}}
            TRX
            echo "error CS1519: Invalid token 'this' in a member declaration"
            exit 1
            """);

        var (code, stdout, _) = CiRun(root);

        Assert.Equal(1, code);
        Assert.Equal("1 passed, 3 failed, 0 skipped", LastLine(stdout));
    }

    [Fact]
    public void A_run_that_passes_counts_every_project_and_exits_0()
    {
        using var dir = new TempDirectory();
        var root = Layout(dir, projects: 2, prerequisite: "exit 0", dotnet: $$"""
            mkdir -p TestResults
            cat > TestResults/tests_net10.0_20261208013536.trx <<'TRX'
            {{Trx("Completed", passed: 5, failed: 0, notExecuted: 1)}}
            TRX
            cat > TestResults/tests_net10.0_20261208013537.trx <<'TRX'
            {{Trx("Completed", passed: 0, failed: 0, notExecuted: 0)}}
            TRX
            exit 0
            """);

        var (code, stdout, _) = CiRun(root);

        Assert.Equal(0, code);
        Assert.Equal("5 passed, 0 failed, 1 skipped", LastLine(stdout));
    }

    [Fact]
    public void Stopped_by_sigterm_it_stops_the_tests_under_way()
    {
        // .ci/run and test.sh ran their commands in the foreground: `kill <.ci/run>` ended bash alone, and dotnet test
        // (with its test hosts) ran on, orphaned, for the rest of the suite.
        using var dir = new TempDirectory();
        var root = Layout(dir, projects: 1, prerequisite: "exit 0", dotnet: """
            trap 'echo stopped > "$ROOT/tests.stopped"; exit 1' TERM
            echo $$ > "$ROOT/tests.started"
            while :; do sleep 0.1; done
            """);
        var started = Path.Combine(root, "tests.started");
        var start = Start(root);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        try
        {
            var waited = Stopwatch.StartNew();
            while (!File.Exists(started) && !process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(50);
            }

            Assert.True(File.Exists(started), "the stand-in tests never started: " + (process.HasExited ? process.StandardError.ReadToEnd() : "still waiting"));
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), ".ci/run did not end after SIGTERM");
            Assert.NotEqual(0, process.ExitCode);
            Assert.True(File.Exists(Path.Combine(root, "tests.stopped")), "the tests under way were not stopped");
            Assert.Equal("0 passed, 1 failed, 0 skipped", LastLine(process.StandardOutput.ReadToEnd()));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            // Stand-in tests the script left running (the defect) are not left behind by the test.
            if (File.Exists(started) && int.TryParse(File.ReadAllText(started).Trim(), out var pid))
            {
                try
                {
                    using var tests = Process.GetProcessById(pid);
                    tests.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone, as it should be.
                }
            }
        }
    }

    [Fact]
    public void An_argument_to_ci_run_is_a_usage_error_and_help_to_test_sh_prints_its_usage_before_any_work()
    {
        // .ci/run ignored its arguments (the whole suite ran); test.sh passed --help to dotnet test after installing the
        // prerequisites and removing the last run's results.
        using var dir = new TempDirectory();
        var root = Layout(dir, projects: 1, prerequisite: "echo prerequisite >> \"$ROOT/work.log\"", dotnet: "echo dotnet >> \"$ROOT/work.log\"");
        var results = Directory.CreateDirectory(Path.Combine(root, "TestResults")).FullName;
        File.WriteAllText(Path.Combine(results, "tests_net10.0_20261207120000.trx"), Trx("Completed", passed: 3, failed: 0, notExecuted: 0));

        var (code, stdout, stderr) = CiRun(root, "--filter", "FullyQualifiedName~X");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("usage: .ci/run (no arguments", stderr, StringComparison.Ordinal);

        foreach (var help in new[] { "--help", "-h" })
        {
            var start = new ProcessStartInfo("bash") { WorkingDirectory = root };
            start.ArgumentList.Add(Path.Combine(root, "scripts", "test.sh"));
            start.ArgumentList.Add(help);
            start.Environment["PATH"] = Path.Combine(dir.Path, "tools") + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["ROOT"] = root;
            (code, stdout, _) = ProgramProcess.Execute(start, 60, "test.sh");
            Assert.Equal(0, code);
            Assert.Contains("Usage: bash scripts/test.sh [extra dotnet test arguments]", stdout, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(root, "work.log")), "a prerequisite or dotnet ran");
        Assert.True(File.Exists(Path.Combine(results, "tests_net10.0_20261207120000.trx")), "the last run's results were removed");
    }

    private static string Trx(string outcome, int passed, int failed, int notExecuted) =>
        $"""
        <?xml version="1.0" encoding="utf-8"?>
        <TestRun id="00000000-0000-0000-0000-000000000000" name="ci" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
          <ResultSummary outcome="{outcome}">
            <Counters total="{passed + failed + notExecuted}" executed="{passed + failed}" passed="{passed}" failed="{failed}" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="{notExecuted}" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
          </ResultSummary>
        </TestRun>
        """;

    /// <summary>The repository's .ci/run and scripts/test.sh under a new root, one prerequisite script and stand-in dotnet.</summary>
    private static string Layout(TempDirectory dir, int projects, string prerequisite, string dotnet)
    {
        var root = Directory.CreateDirectory(Path.Combine(dir.Path, "repo")).FullName;
        Directory.CreateDirectory(Path.Combine(root, ".ci"));
        Directory.CreateDirectory(Path.Combine(root, "scripts", "prereqs"));
        File.Copy(Path.Combine(TestPaths.RepositoryRoot, ".ci", "run"), Path.Combine(root, ".ci", "run"));
        File.Copy(Path.Combine(TestPaths.RepositoryRoot, "scripts", "test.sh"), Path.Combine(root, "scripts", "test.sh"));
        File.WriteAllText(Path.Combine(root, "scripts", "prereqs", "tool.sh"), $"#!/usr/bin/env bash\n{prerequisite}\n");
        for (var i = 0; i < projects; i++)
        {
            var project = Directory.CreateDirectory(Path.Combine(root, "tests", $"Project{i}.Tests")).FullName;
            File.WriteAllText(Path.Combine(project, $"Project{i}.Tests.csproj"), "<Project Sdk=\"Microsoft.NET.Sdk\" />\n");
        }

        var tools = Directory.CreateDirectory(Path.Combine(dir.Path, "tools")).FullName;
        File.WriteAllText(Path.Combine(tools, "dotnet"), $"#!/usr/bin/env bash\n{dotnet}\n");
        File.SetUnixFileMode(Path.Combine(tools, "dotnet"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return root;
    }

    private static (int Code, string Stdout, string Stderr) CiRun(string root, params string[] arguments) => ProgramProcess.Execute(Start(root, arguments), 60, ".ci/run");

    private static ProcessStartInfo Start(string root, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = root };
        start.ArgumentList.Add(Path.Combine(root, ".ci", "run"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PATH"] = Path.Combine(Path.GetDirectoryName(root)!, "tools") + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment["ROOT"] = root;
        return start;
    }

    private static string LastLine(string text) => text.TrimEnd('\n').Split('\n')[^1];
}
