using System.Diagnostics;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>The real program in its own process, with its own environment, in a scratch working folder.</summary>
internal static class ProgramProcess
{
    public static (int Code, string Stdout, string Stderr) Run(TempDirectory dir, Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.Path };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NetworkSecurity.Api.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Logging__Directory"] = "none";
        start.Environment["MLFLOW_TRACKING_URI"] = Path.Combine(dir.Path, "mlruns");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the program did not stop within 120 s (a service started?): {string.Join(' ', arguments)}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
