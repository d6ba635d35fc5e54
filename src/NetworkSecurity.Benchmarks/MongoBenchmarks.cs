using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using NetworkSecurity.MongoDb;
using NetworkSecurity.MongoDb.Tests;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;
using static NetworkSecurity.Benchmarks.Bench;

namespace NetworkSecurity.Benchmarks;

/// <summary>
/// push-data and streaming the collection back for training (MongoDataSource.ReadAsync with the schema projection), on
/// the bundled 11,055 rows and a 10× copy: documents per second and this process's peak memory per phase (VmHWM,
/// of a fresh process per phase). The server is a real MongoDB when <c>--uri</c> is given, else the wire-protocol test
/// server in a child process (so its memory is not counted; its own work is, as the server's would be).
/// <c>dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- mongodb [--uri mongodb://…] [--batch-size n] [--repeat n]</c>
/// </summary>
public static class MongoBenchmarks
{
    private const string WarmUpCollection = "WarmUp";

    public static async Task RunAsync(string[] args)
    {
        var options = Options(args);
        var uri = options.GetValueOrDefault("--uri");
        var batchSize = Count(options, "--batch-size", 1000);
        var repeat = Count(options, "--repeat", 3);
        if (uri is not null && !IsConnectionString(uri))
        {
            throw new UsageException($"mongodb: --uri '{MongoOptions.Redact(uri)}' is not a MongoDB connection string (mongodb://host:port or mongodb+srv://host).");
        }

        using var server = uri is null ? ServerProcess.Start() : null;
        var connectionString = uri ?? server!.ConnectionString;
        var tenfold = Path.Combine(Path.GetTempPath(), $"ns-bench-{Environment.ProcessId}-x10.csv");
        Process? phase = null;
        var abandoned = false;
        var phaseGate = new Lock();
        // Ctrl-C or a kill ends the process without running the finally below: the 8 MB copy stayed in the temp folder.
        void Abandon(PosixSignalContext context)
        {
            File.Delete(tenfold);
            lock (phaseGate)
            {
                abandoned = true;
                KillQuietly(phase);
            }
        }

        // A phase started while the signal was being handled (the main thread does not stop for it) is killed at once:
        // it outlived the run, pushing to a test server that had gone, until its server selection timed out.
        void Started(Process started)
        {
            lock (phaseGate)
            {
                phase = started;
                if (abandoned)
                {
                    KillQuietly(started);
                }
            }
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Abandon);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Abandon);
        var lines = File.ReadAllLines("Network_Data/phisingData.csv");
        var rows = new List<(string, string, string)>();
        try
        {
            File.WriteAllLines(tenfold, Enumerable.Range(0, 10).SelectMany(i => i == 0 ? lines : lines.Skip(1)));
            var mongo = new MongoOptions
            {
                ConnectionString = connectionString,
                Database = "networksecurity_bench",
                Collection = "NetworkData",
                BatchSize = batchSize,
            };
            foreach (var (name, file) in new[] { ("11,055 rows", "Network_Data/phisingData.csv"), ("110,550 rows (10×)", tenfold) })
            {
                var push = new List<Measurement>();
                var read = new List<Measurement>();
                for (var i = 0; i < repeat; i++)
                {
                    push.Add(RunPhase(server, "push", file, mongo, Started));
                    read.Add(RunPhase(server, "read", file, mongo, Started));
                }

                rows.Add(($"push-data {name}, batches of {batchSize}", Describe(push), "—"));
                rows.Add(($"stream back for training {name} (cursor batches of {batchSize}, projection)", Describe(read), "—"));
            }

            // The collections it made go with it: on the MongoDB given by --uri, 110,550 documents stayed behind.
            using var connection = await MongoConnection.OpenAsync(mongo, CancellationToken.None);
            foreach (var collection in new[] { mongo.Collection, WarmUpCollection })
            {
                await connection.Database.DropCollectionAsync(collection);
                await connection.Database.DropCollectionAsync(collection + ".push-data.leases"); // push-data --drop's staging leases
            }
        }
        finally
        {
            File.Delete(tenfold);
        }

        Table($"MongoDB through MongoDB.Driver 3.14.0 ({(uri is null ? "wire-protocol test server, in another process" : MongoOptions.Redact(uri))}; median of {repeat}, peak = highest)", rows);
        Console.WriteLine();
        Console.WriteLine("Each phase runs in a fresh client process after a 200-document warm-up; peak RSS is that process's VmHWM during the phase (the test server's memory is not counted).");
    }

    private static async Task<long> PushAsync(MongoOptions options, TextReader reader, string source)
    {
        var (columns, records) = CsvTableReader.Open(reader, source);
        var result = await MongoDataLoader.PushAsync(options, columns, records, drop: true, null, CancellationToken.None);
        return result.RejectedCount == 0 && result.CollectionCount == result.Read ? result.Inserted : throw new InvalidOperationException($"push incomplete: {result}");
    }

    private static async Task<long> PushFileAsync(MongoOptions options, string file)
    {
        using var reader = new StreamReader(file);
        return await PushAsync(options, reader, file);
    }

    private static void KillQuietly(Process? process)
    {
        try
        {
            process?.Kill();
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    // Wall time depends on what else runs on the machine; CPU time (client and test server) much less.
    private sealed record Measurement(long Documents, double Seconds, double ClientCpu, double ServerCpu, double StartMegabytes, double PeakMegabytes);

    // Each phase runs in a fresh process (as the CLI would), after a 200-document warm-up on another collection.
    private static Measurement RunPhase(ServerProcess? server, string phase, string file, MongoOptions options, Action<Process> started)
    {
        var serverCpu = server?.CpuSeconds ?? 0;
        using var child = Process.Start(SelfStartInfo("mongodb-phase", phase, file, options.ConnectionString, options.BatchSize.ToString(CultureInfo.InvariantCulture)))!;
        started(child);
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            // The child said why on the shared stderr (a MongoDB error's message, not a stack trace).
            throw new BenchmarkFailedException($"mongodb: the {phase} phase failed (exit code {child.ExitCode}).");
        }

        var v = output.Trim().Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return new Measurement((long)v[0], v[1], v[2], (server?.CpuSeconds ?? 0) - serverCpu, v[3], v[4]);
    }

    /// <summary>The child side of <see cref="RunPhase"/>: prints documents, seconds, CPU seconds, RSS at start and peak (MB).</summary>
    public static async Task PhaseAsync(string[] args)
    {
        var (phase, file, uri, batch) = (args[0], args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        // The run holds this process's stdin open and closes it only by ending, however it ends: a SIGKILL, or a SIGTERM
        // handled while Process.Start was still creating this process, which the run's handler cannot kill yet. The
        // phase then ends too instead of outliving the run (CI found a benchmark process left after a stopped run).
        new Thread(() =>
        {
            Console.In.ReadToEnd();
            Environment.Exit(1);
        }) { IsBackground = true, Name = "run watch" }.Start();
        var fields = MongoDataSource.FieldsOf(SchemaLoader.Load("data_schema/schema.yaml"));
        var options = new MongoOptions { ConnectionString = uri, Database = "networksecurity_bench", Collection = "NetworkData", BatchSize = batch };
        var warmUp = options with { Collection = WarmUpCollection };
        try
        {
            await MeasureAsync(phase, file, options, warmUp, fields);
        }
        catch (MongoException e)
        {
            throw new BenchmarkFailedException(e.Message); // unreachable server, refused credentials: said, not traced
        }
    }

    private static async Task MeasureAsync(string phase, string file, MongoOptions options, MongoOptions warmUp, IReadOnlyCollection<string> fields)
    {
        // In memory: a temp file for it stayed behind whenever the phase failed.
        using (var sample = new StringReader(string.Join('\n', File.ReadLines("Network_Data/phisingData.csv").Take(201))))
        {
            await PushAsync(warmUp, sample, "warm-up rows");
        }

        await new MongoDataSource(warmUp, fields).ReadAsync(CancellationToken.None);
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS
        var start = RssMegabytes("VmRSS");
        var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long documents = phase == "push"
            ? await PushFileAsync(options, file)
            : (await new MongoDataSource(options, fields).ReadAsync(CancellationToken.None)).Records.Count;
        var seconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        Console.WriteLine(string.Join(' ', new double[] { documents, seconds, (self.TotalProcessorTime - cpu).TotalSeconds, start, RssMegabytes("VmHWM") }.Select(x => x.ToString("R", CultureInfo.InvariantCulture))));
    }

    private static ProcessStartInfo SelfStartInfo(params string[] args)
    {
        var host = Environment.ProcessPath!;
        var info = new ProcessStartInfo(host) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(MongoBenchmarks).Assembly.Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static string Describe(List<Measurement> runs)
    {
        var median = runs.OrderBy(r => r.Seconds).ElementAt(runs.Count / 2);
        return $"{F(median.Seconds, "0.000")} s, {F(median.Documents / median.Seconds, "#,0")} documents/s (CPU: client {F(median.ClientCpu, "0.00")} s, test server {F(median.ServerCpu, "0.00")} s); peak RSS {F(runs.Max(r => r.PeakMegabytes), "0")} MB ({F(runs.Max(r => r.StartMegabytes), "0")} MB before it)";
    }

    private static double RssMegabytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    // Only these options, each with a value and given once: an unknown one (or `--uri` without its value) was ignored,
    // and the run measured the test server instead of the MongoDB meant.
    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] is not ("--uri" or "--batch-size" or "--repeat"))
            {
                throw new UsageException($"mongodb: unknown option '{args[i]}' (--uri, --batch-size or --repeat).");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"mongodb: {args[i]} needs a value.");
            }

            // Each takes one value: --uri A --uri B measured B without a word.
            if (!options.TryAdd(args[i], args[i + 1]))
            {
                throw new UsageException($"mongodb: {args[i]} is given more than once: give it once.");
            }
        }

        return options;
    }

    // Checked here: a bad one failed in every phase's child process, each with a stack trace.
    private static bool IsConnectionString(string uri)
    {
        try
        {
            _ = MongoDB.Driver.MongoUrl.Create(uri);
            return true;
        }
        catch (Exception e) when (e is MongoDB.Driver.MongoConfigurationException or ArgumentException or FormatException)
        {
            return false;
        }
    }

    private static int Count(Dictionary<string, string> options, string name, int fallback) =>
        !options.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
        : throw new UsageException($"mongodb: {name} '{text}' is not a whole number above 0.");

    /// <summary>Hosts the test server: `mongodb-server` prints its port and serves until stdin closes.</summary>
    public static async Task ServeAsync()
    {
        await using var server = new WireProtocolServer();
        Console.WriteLine(server.Port.ToString(CultureInfo.InvariantCulture));
        await Console.In.ReadToEndAsync();
    }

    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, int port)
        {
            _process = process;
            ConnectionString = $"mongodb://127.0.0.1:{port}";
        }

        public string ConnectionString { get; }

        public double CpuSeconds
        {
            get
            {
                _process.Refresh();
                return _process.TotalProcessorTime.TotalSeconds;
            }
        }

        public static ServerProcess Start()
        {
            var process = Process.Start(SelfStartInfo("mongodb-server"))!;
            var port = int.Parse(process.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);
            return new ServerProcess(process, port);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }
}
