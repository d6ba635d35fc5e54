using System.Diagnostics;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The README's benchmark scripts (scripts/bench/*.sh), run by bash as a user runs them. The tools they would start
/// (dotnet, apt-get, wrk, curl, python3 from PATH) are replaced by stand-ins that log their call and fail, so a test
/// sees whether a script got as far as building, installing or loading a service, without running a benchmark.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // bash scripts and executable stand-ins
public sealed class BenchScriptTests
{
    private static readonly string[] Tools = ["dotnet", "apt-get", "wrk", "curl", "python3"];

    [Theory]
    [InlineData("accuracy")]
    [InlineData("api")]
    [InlineData("api-vs-mlnet")]
    [InlineData("explain")]
    [InlineData("hostile")]
    [InlineData("speed")]
    [InlineData("train-memory")]
    public void Help_prints_the_usage_and_starts_nothing(string script)
    {
        using var dir = new TempDirectory();
        foreach (var help in new[] { "--help", "-h" })
        {
            var (code, stdout, _, calls) = Run(dir, script, help);
            Assert.Equal(0, code);
            Assert.Contains($"bash scripts/bench/{script}.sh", stdout);
            Assert.Equal("", calls);
        }
    }

    [Theory]
    [InlineData("accuracy", "abc")]
    [InlineData("accuracy", "0-4", "/dev/null")] // OUT is not a folder
    [InlineData("accuracy", "4-0")] // seeds evaluate refuses, refused before the earlier splits are removed
    [InlineData("accuracy", "1,01")]
    [InlineData("accuracy", "0-10000")]
    [InlineData("accuracy", "99999999999")]
    [InlineData("api", "ftp://x")]
    [InlineData("api", "http://example.com:8080")] // 127.0.0.1 only: load on another host, memory of a local process
    [InlineData("api", "http://10.0.0.1")]
    [InlineData("api-vs-mlnet", "3", "abc")]
    [InlineData("hostile", "/no/such/final_model")]
    [InlineData("explain", "100x32")]
    [InlineData("speed", "now")]
    [InlineData("train-memory", "1e6")]
    [InlineData("train-memory", "500000", "0")]
    public void A_bad_argument_is_a_usage_error_before_anything_runs(string script, params string[] arguments)
    {
        using var dir = new TempDirectory();
        var (code, _, stderr, calls) = Run(dir, script, arguments);
        Assert.Equal(2, code);
        Assert.StartsWith($"usage: bash scripts/bench/{script}.sh", stderr);
        Assert.Equal("", calls);
    }

    [Fact]
    public void Accuracy_replaces_only_its_own_splits_in_the_output_folder()
    {
        using var dir = new TempDirectory();
        var output = Path.Combine(dir.Path, "results");
        Directory.CreateDirectory(Path.Combine(output, "stratified", "seed9"));
        File.WriteAllText(Path.Combine(output, "stratified", "seed9", "test.csv"), "stale");
        File.WriteAllText(Path.Combine(output, "notes.txt"), "kept");

        // The stand-in dotnet (or apt-get) stops the script at its first build: the folder is then as the run leaves it.
        var (code, _, _, calls) = Run(dir, "accuracy", "0", output);

        Assert.Equal(97, code);
        Assert.NotEqual("", calls);
        Assert.Equal("kept", File.ReadAllText(Path.Combine(output, "notes.txt")));
        Assert.False(Directory.Exists(Path.Combine(output, "stratified")), "the earlier run's splits are removed");
    }

    [Theory]
    [InlineData("accuracy", "src/NetworkSecurity.Api/NetworkSecurity.Api.csproj", new[] { "0", "results" })]
    [InlineData("speed", "src/NetworkSecurity.Api/NetworkSecurity.Api.csproj", new string[0])]
    [InlineData("explain", "src/NetworkSecurity.Benchmarks", new string[0])]
    public void A_bench_script_shows_why_its_build_failed(string script, string project, string[] arguments)
    {
        using var dir = new TempDirectory();
        // A build that fails as MSBuild does: its errors on stdout, which the scripts sent to /dev/null (exit 1, not a word).
        // apt-get "installs" scikit-learn when /usr/bin/python3 lacks it, so the script gets to its build either way.
        var tools = Path.Combine(dir.Path, "tools");
        Directory.CreateDirectory(tools);
        foreach (var (tool, body) in new[] { ("dotnet", "echo 'Program.cs(3,5): error CS1002: ; expected'\nexit 1"), ("apt-get", "exit 0") })
        {
            File.WriteAllText(Path.Combine(tools, tool), $"#!/bin/sh\n{body}\n");
            File.SetUnixFileMode(Path.Combine(tools, tool), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var (code, stdout, stderr, _) = RunWith(dir, [], new Dictionary<string, string>(), script, [.. arguments.Select(a => a == "results" ? Path.Combine(dir.Path, a) : a)]);

        Assert.Equal(1, code);
        Assert.DoesNotContain("==", stdout); // no measurement started
        Assert.EndsWith($"Program.cs(3,5): error CS1002: ; expected\n{script}.sh: the build of {project} failed (exit code 1, output above); nothing was measured\n", stderr);
    }

    [Fact]
    public void Accuracy_takes_a_relative_output_folder_from_where_it_is_run()
    {
        using var dir = new TempDirectory();
        var name = $"results_{Guid.NewGuid():N}";
        var stale = Path.Combine(dir.Path, name, "grouped", "seed9");
        Directory.CreateDirectory(stale);

        // Run from dir (the stand-in dotnet stops it at its build): the splits it replaces are dir's, not the repository's.
        var (code, _, _, _) = Run(dir, "accuracy", "0", name);

        Assert.Equal(97, code);
        Assert.False(Directory.Exists(stale), "the splits of the folder named from the working folder are the ones replaced");
        Assert.False(Directory.Exists(Path.Combine(TestPaths.RepositoryRoot, name)), "nothing is made in the repository");
    }

    [Fact]
    public void Accuracy_compares_on_a_csv_and_schema_of_the_user_s_named_from_where_it_is_run()
    {
        // It took no data set: Pipeline__DataPath=mine.csv was read from the repository (the script changes folder), so
        // the file beside the user "does not exist". A stand-in dotnet that builds and evaluates (logging its arguments)
        // lets the script get to peers.py, which finds no splits and stops it.
        using var dir = new TempDirectory();
        var tools = Path.Combine(dir.Path, "tools");
        Directory.CreateDirectory(tools);
        var calls = Path.Combine(dir.Path, "calls.log");
        foreach (var tool in new[] { "dotnet", "apt-get" }) // apt-get "installs" scikit-learn where /usr/bin/python3 lacks it
        {
            File.WriteAllText(Path.Combine(tools, tool), $"#!/bin/sh\necho \"{tool} $*\" >> '{calls}'\nexit 0\n");
            File.SetUnixFileMode(Path.Combine(tools, tool), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        dir.File("mine.csv", "a,Result\n1,1\n");
        dir.File("mine.yaml", "version: 1\n");

        var (code, _, _, _) = RunWith(dir, [], new Dictionary<string, string>(), "accuracy", "0", "out", "mine.csv", "mine.yaml");

        Assert.Equal(1, code); // peers.py: no stratified/ or grouped/ folder
        var evaluations = File.ReadAllLines(calls).Where(l => l.Contains(" evaluate ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, evaluations.Length); // stratified and grouped
        Assert.All(evaluations, l => Assert.EndsWith($" --data {Path.Combine(dir.Path, "mine.csv")} --schema {Path.Combine(dir.Path, "mine.yaml")}", l, StringComparison.Ordinal));

        // A DATA or SCHEMA that is not a file is a usage error before the earlier splits are removed.
        var (missing, _, stderr, _) = Run(dir, "accuracy", "0", "out", "nothing.csv");
        Assert.Equal(2, missing);
        Assert.Contains($"DATA '{Path.Combine(dir.Path, "nothing.csv")}' is not a file", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api-vs-mlnet")]
    [InlineData("hostile")]
    [InlineData("speed")]
    [InlineData("train-memory")]
    public void Each_training_run_tracks_into_the_scripts_temp_folder(string script)
    {
        // Read, not run: these scripts train only after minutes of builds and benchmarks. A `train` without a tracking
        // URI records its run in ./mlruns, which speed.sh left in the repository.
        var text = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", script + ".sh")).Replace("\\\n", " ", StringComparison.Ordinal);
        var trains = text.Split('\n').Where(line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^[^#]*\bdotnet\b.*\strain\s")).ToArray();

        Assert.NotEmpty(trains);
        Assert.All(trains, line => Assert.Matches(@"MLFLOW_TRACKING_URI=""?\$work/mlruns", line));
    }

    [Theory]
    [InlineData("hostile", "HOSTILE_PORT")]
    [InlineData("api-vs-mlnet", "API_VS_MLNET_PORT")]
    public void A_port_in_use_is_refused_before_anything_runs(string script, string variable)
    {
        using var dir = new TempDirectory();
        // Something already listens there: the script's own service could not, and the one there was measured instead.
        var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
            var (code, stdout, stderr, calls) = RunWith(dir, Tools, new Dictionary<string, string> { [variable] = $"{port}", ["PEER_DIR"] = dir.Path }, script);

            Assert.Equal(1, code);
            Assert.Equal("", stdout);
            Assert.StartsWith($"port {port} on 127.0.0.1 is already in use: set {variable}", stderr);
            Assert.Equal("", calls);
        }
        finally
        {
            busy.Stop();
        }
    }

    [Theory]
    [InlineData("hostile", "HOSTILE_PORT", "abc")]
    [InlineData("hostile", "HOSTILE_PORT", "99999")]
    [InlineData("api-vs-mlnet", "API_VS_MLNET_PORT", "12ab")]
    public void A_port_that_is_not_a_number_is_a_usage_error(string script, string variable, string value)
    {
        // hostile.sh took HOSTILE_PORT=abc and failed later with bash's "/dev/tcp/127.0.0.1/abc: Invalid argument".
        using var dir = new TempDirectory();
        var (code, stdout, stderr, calls) = RunWith(dir, Tools, new Dictionary<string, string> { [variable] = value, ["PEER_DIR"] = dir.Path }, script);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains($"{variable} '{value}' is not a port number", stderr);
        Assert.Equal("", calls);
    }

    [Fact]
    public void Api_vs_mlnet_refuses_to_time_csv_answers_that_are_not_200()
    {
        // Read, not run (the script needs wrk, two builds and a trained model): a 413 or 503 answers fast and small,
        // and was timed as if it were the scoring of 11,055 rows.
        var text = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", "api-vs-mlnet.sh"));
        Assert.Contains("%{http_code} %{time_total}", text);
        Assert.Contains("$1 != 200", text);
        Assert.DoesNotContain("< <(csv_median", text); // a failure inside a process substitution does not stop the script
    }

    [Fact]
    public void Api_refuses_a_service_without_a_model_before_any_load()
    {
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"));
        factory.UseLoopbackKestrel();
        factory.StartServer();
        var url = factory.CreateClient().BaseAddress!.ToString();

        // The real curl asks the real service; wrk is the stand-in, called only if the load began.
        var (code, stdout, stderr, calls) = RunWith(dir, ["wrk"], new Dictionary<string, string>(), "api", url);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"the service at {url.TrimEnd('/')} is not ready (GET /health/ready answered 503, not 200): start it with a trained model\n", stderr);
        Assert.Equal("", calls);
    }

    [Fact]
    public void Train_memory_stopped_by_sigterm_stops_its_train_and_leaves_no_temp_folder()
    {
        // The script's EXIT trap removed its folder while the train it had started ran on: the train wrote its run (and
        // MLflow store) into a new folder left behind, and went on for the rest of its search with nobody waiting for it.
        using var dir = new TempDirectory();
        var tmp = Directory.CreateDirectory(Path.Combine(dir.Path, "tmp")).FullName;
        var tools = Directory.CreateDirectory(Path.Combine(dir.Path, "tools")).FullName;
        var started = Path.Combine(dir.Path, "train.started");
        var stopped = Path.Combine(dir.Path, "train.stopped");
        // A stand-in dotnet: builds succeed; the train waits to be stopped and then, as the real one does, writes its run.
        File.WriteAllText(Path.Combine(tools, "dotnet"), $$"""
            #!/bin/bash
            [ "$1" = build ] && exit 0
            while [ $# -gt 0 ]; do [ "$1" = --artifacts ] && artifacts=$2; shift; done
            trap 'sleep 0.5; mkdir -p "$artifacts/run"; echo stopped > '{{stopped}}'; exit 1' TERM
            echo $$ > '{{started}}'
            while :; do sleep 0.1; done
            """);
        File.SetUnixFileMode(Path.Combine(tools, "dotnet"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo("bash") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", "train-memory.sh"));
        start.ArgumentList.Add("100");
        start.Environment["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment["TMPDIR"] = tmp;
        using var script = Process.Start(start)!;
        try
        {
            var waited = Stopwatch.StartNew();
            while (!File.Exists(started) && !script.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(50);
            }

            Assert.True(File.Exists(started), "the stand-in train never started: " + (script.HasExited ? script.StandardError.ReadToEnd() : "still waiting"));
            using (var kill = Process.Start("kill", ["-TERM", script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(script.WaitForExit(TimeSpan.FromSeconds(30)), "train-memory.sh did not end after SIGTERM");
            Assert.Equal(143, script.ExitCode);
            Assert.True(File.Exists(stopped), "the train under way was not stopped");
            Assert.Empty(Directory.EnumerateFileSystemEntries(tmp)); // its folder removed after the train ended
        }
        finally
        {
            if (!script.HasExited)
            {
                script.Kill(entireProcessTree: true);
            }

            // A train the script left running (the defect) is not left behind by the test.
            if (File.Exists(started) && int.TryParse(File.ReadAllText(started).Trim(), out var pid))
            {
                try
                {
                    using var train = Process.GetProcessById(pid);
                    train.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone, as it should be.
                }
            }
        }
    }

    [Theory]
    [InlineData("accuracy", new[] { "0", "results" })]
    [InlineData("speed", new string[0])]
    [InlineData("hostile", new string[0])] // its train: the EXIT trap removed the folder the train went on writing into
    [InlineData("api-vs-mlnet", new string[0])]
    [InlineData("explain", new string[0])]
    public void A_bench_script_stopped_by_sigterm_stops_the_program_its_step_started(string script, string[] arguments)
    {
        // The steps ran in the foreground: `kill <script>` ended bash alone, and the program `dotnet run` had started
        // (evaluate, writing its splits; the search) went on, orphaned, for minutes.
        using var dir = new TempDirectory();
        var tools = Directory.CreateDirectory(Path.Combine(dir.Path, "tools")).FullName;
        var started = Path.Combine(dir.Path, "program.started");
        var stopped = Path.Combine(dir.Path, "program.stopped");
        // A stand-in dotnet: builds succeed; `run` starts the program and, as a parent that does not pass SIGTERM on,
        // dies of it alone. The program waits to be stopped. apt-get "installs" scikit-learn if /usr/bin/python3 lacks it.
        File.WriteAllText(Path.Combine(tools, "dotnet"), $$"""
            #!/bin/bash
            [ "$1" = build ] && exit 0
            bash -c 'trap "echo stopped > '{{stopped}}'; exit 1" TERM; echo $$ > '{{started}}'; while :; do sleep 0.1; done'
            """);
        File.WriteAllText(Path.Combine(tools, "apt-get"), "#!/bin/sh\nexit 0\n");
        foreach (var tool in new[] { "dotnet", "apt-get" })
        {
            File.SetUnixFileMode(Path.Combine(tools, tool), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var start = new ProcessStartInfo("bash") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", script + ".sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument == "results" ? Path.Combine(dir.Path, argument) : argument);
        }

        start.Environment["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH");
        // Free ports for the scripts that check theirs (nothing listens on them: the stand-in starts no service).
        var free = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        free.Start();
        var port = ((System.Net.IPEndPoint)free.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        free.Stop();
        start.Environment["HOSTILE_PORT"] = port;
        start.Environment["API_VS_MLNET_PORT"] = port;
        start.Environment["PEER_DIR"] = Directory.CreateDirectory(Path.Combine(dir.Path, "peer")).FullName;
        start.Environment["TMPDIR"] = Directory.CreateDirectory(Path.Combine(dir.Path, "tmp")).FullName;
        using var process = Process.Start(start)!;
        try
        {
            var waited = Stopwatch.StartNew();
            while (!File.Exists(started) && !process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(120))
            {
                Thread.Sleep(50);
            }

            Assert.True(File.Exists(started), "the stand-in program never started: " + (process.HasExited ? process.StandardError.ReadToEnd() : "still waiting"));
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), $"{script}.sh did not end after SIGTERM");
            Assert.Equal(143, process.ExitCode);
            Assert.True(File.Exists(stopped), "the program the step started was not stopped");
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dir.Path, "tmp"))); // temporary folders removed
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            // A program the script left running (the defect) is not left behind by the test.
            if (File.Exists(started) && int.TryParse(File.ReadAllText(started).Trim(), out var pid))
            {
                try
                {
                    using var program = Process.GetProcessById(pid);
                    program.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone, as it should be.
                }
            }
        }
    }

    [Theory]
    [InlineData("seed_grid.py", "a.csv", "b.csv")] // the second was ignored
    [InlineData("seed_grid.py", "/no/such.csv")] // a numpy traceback
    [InlineData("explain_xgboost.py", "/no/such.csv")]
    [InlineData("explain_xgboost.py", "DATA", "100x32", "100", "many", "0.2", "1.0")] // a ValueError traceback
    [InlineData("explain_xgboost.py", "DATA", "100x32", "100", "32", "0.2", "1.0", "extra")] // the seventh was ignored
    public void A_bench_python_helper_given_bad_arguments_prints_its_usage_not_a_traceback(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = TestPaths.RepositoryRoot };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument == "DATA" ? TestPaths.DataFile : argument);
        }

        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        var (code, stdout, stderr) = ProgramProcess.Execute(start, 120, script);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"usage: {script}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_xgboost_runs_with_only_what_explain_sh_installs()
    {
        // Debian's python3-xgboost without pandas (explain.sh installs nothing else): trees_to_dataframe was an
        // ImportError, and explain.sh ended there, after minutes of the .NET benchmark, with no table.
        using var dir = new TempDirectory();
        var data = dir.File("rows.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(301)) + "\n");
        var start = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = dir.Path };
        foreach (var argument in new[] { Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", "explain_xgboost.py"), data, "5x4", "5", "4", "0.3", "1.0" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        var (code, stdout, stderr) = ProgramProcess.Execute(start, 300, "explain_xgboost.py");

        Assert.True(code == 0, stderr);
        var leaves = stdout.Split('\n').Single(l => l.StartsWith("xgb_5x4_leaves_mean=", StringComparison.Ordinal));
        Assert.InRange(double.Parse(leaves[(leaves.IndexOf('=', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture), 1.0, 4.0);
        Assert.Contains("xgb_5x4_batch2000_s=", stdout, StringComparison.Ordinal);
    }

    private static (int Code, string Stdout, string Stderr, string Calls) Run(TempDirectory dir, string script, params string[] arguments) =>
        RunWith(dir, Tools, new Dictionary<string, string>(), script, arguments);

    private static (int Code, string Stdout, string Stderr, string Calls) RunWith(TempDirectory dir, string[] standIns, Dictionary<string, string> environment, string script, params string[] arguments)
    {
        var tools = Path.Combine(dir.Path, "tools");
        var calls = Path.Combine(dir.Path, "calls.log");
        Directory.CreateDirectory(tools);
        foreach (var tool in standIns)
        {
            var path = Path.Combine(tools, tool);
            File.WriteAllText(path, $"#!/bin/sh\necho \"{tool} $*\" >> '{calls}'\nexit 97\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var start = new ProcessStartInfo("bash") { WorkingDirectory = dir.Path };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "scripts", "bench", script + ".sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var (code, stdout, stderr) = ProgramProcess.Execute(start, 60, $"{script}.sh (it ran a benchmark)");
        return (code, stdout, stderr, File.Exists(calls) ? File.ReadAllText(calls) : "");
    }
}
