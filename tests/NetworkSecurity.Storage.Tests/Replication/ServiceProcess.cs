using System.Collections.Concurrent;
using System.Diagnostics;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Storage.Tests.Replication;

/// <summary>
/// One real instance of the service: `dotnet NetworkSecurity.Api.dll --urls http://127.0.0.1:&lt;free port&gt;` in its own
/// folder, configured by environment variables and arguments only. Killed (SIGKILL) when disposed; its output is kept
/// for failure messages.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private bool _disposed;

    public ServiceProcess(string name, string folder, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        Name = name;
        Port = TestPorts.Free();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { ApiDll, "--urls", BaseAddress.ToString().TrimEnd('/') }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        // Hermetic: nothing from the test runner's environment decides where this instance stores or sends anything.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("S3_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)
            || k.StartsWith("MONGO", StringComparison.Ordinal) || k.StartsWith("MLFLOW_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
            || k.StartsWith("NETWORKSECURITY_", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The service's console output so far (its last 2,000 lines), for assertions on what it logged.</summary>
    public string Output => $"--- {Name} ---\n" + string.Join('\n', _output);

    /// <summary>The last 200 lines, for failure messages. (Assertions read <see cref="Output"/>: a busy service logged
    /// more than 200 lines in CI and a line asserted on had scrolled out.)</summary>
    public string Tail => $"--- {Name} ---\n" + string.Join('\n', _output.TakeLast(200));

    /// <summary>The built service; the test project references it, so it is built before the tests run.</summary>
    public static string ApiDll
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = framework.Parent!.Name;
            var dll = Path.Combine(TestPaths.RepositoryRoot, "src", "NetworkSecurity.Api", "bin", configuration, framework.Name, "NetworkSecurity.Api.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} not found: build src/NetworkSecurity.Api ({configuration}) first.");
        }
    }

    /// <summary>SIGKILL: no shutdown hooks run, as when a node dies.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 2000)
        {
            _output.TryDequeue(out _);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Kill();
        _process.Dispose();
    }
}
