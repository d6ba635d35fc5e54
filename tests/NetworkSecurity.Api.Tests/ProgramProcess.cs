using System.Diagnostics;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>The real program (or a script) in its own process, with its own environment, in a scratch working folder.</summary>
internal static class ProgramProcess
{
    /// <summary>The program in <paramref name="dir"/>, logging nowhere and tracking into the folder's mlruns/.</summary>
    public static (int Code, string Stdout, string Stderr) Run(TempDirectory dir, Dictionary<string, string> environment, params string[] arguments)
    {
        var all = new Dictionary<string, string> { ["Logging__Directory"] = "none", ["MLFLOW_TRACKING_URI"] = Path.Combine(dir.Path, "mlruns") };
        foreach (var (name, value) in environment)
        {
            all[name] = value;
        }

        return Run(arguments, dir.Path, all, timeoutSeconds: 120);
    }

    /// <summary>The program with <paramref name="arguments"/> and <paramref name="environment"/> added to this process's.</summary>
    public static (int Code, string Stdout, string Stderr) Run(IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment, int timeoutSeconds)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NetworkSecurity.Api.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Execute(start, timeoutSeconds, $"the program ({string.Join(' ', arguments)}; a service started?)");
    }

    /// <summary>The program started in <paramref name="workingDirectory"/> with both outputs redirected, for a test that acts while it runs.</summary>
    public static Process Start(IReadOnlyList<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NetworkSecurity.Api.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <summary>
    /// Runs <paramref name="start"/> with both outputs collected; one that has not stopped after
    /// <paramref name="timeoutSeconds"/> is killed with its children and fails the test, naming <paramref name="what"/>.
    /// </summary>
    public static (int Code, string Stdout, string Stderr) Execute(ProcessStartInfo start, int timeoutSeconds, string what)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{what} did not stop within {timeoutSeconds} s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
