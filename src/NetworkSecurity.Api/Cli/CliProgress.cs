using System.Diagnostics;
using System.Globalization;
using Serilog.Core;
using Serilog.Events;
using Spectre.Console;

namespace NetworkSecurity.Api.Cli;

/// <summary>Where a long command says how far it is: the step it is on and the share of the whole work done (0..1).</summary>
public interface IProgressReporter
{
    void Report(string step, double fraction);
}

/// <summary>
/// Progress of a long command. In a terminal: a live bar with the step, percent, elapsed and estimated time left, while
/// the console log shows only warnings (the log file keeps everything). With output redirected or in CI: a plain log
/// line when the step changes and at most every few seconds otherwise.
/// </summary>
public static class CliProgress
{
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(3);

    public static bool IsInteractive =>
        !Console.IsOutputRedirected && !Console.IsErrorRedirected
        && !IsCi(Environment.GetEnvironmentVariable("CI"))
        && Environment.GetEnvironmentVariable("TERM") is not ("dumb" or null or "");

    /// <summary>CI set to anything but empty, "false" or "0" (CI=false is a way to say "not CI").</summary>
    internal static bool IsCi(string? value) => value?.Trim() is { Length: > 0 } v && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);

    public static async Task<T> RunAsync<T>(string title, Serilog.ILogger logger, LoggingLevelSwitch? consoleLevel, Func<IProgressReporter, Task<T>> work)
    {
        if (!IsInteractive)
        {
            return await work(new PlainReporter(title, logger)).ConfigureAwait(false);
        }

        var previous = consoleLevel?.MinimumLevel;
        if (consoleLevel is not null)
        {
            consoleLevel.MinimumLevel = LogEventLevel.Warning;
        }

        try
        {
            return await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(title), maxValue: 1000);
                    var result = await work(new LiveReporter(title, task)).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                    return result;
                }).ConfigureAwait(false);
        }
        finally
        {
            if (consoleLevel is not null && previous is { } level)
            {
                consoleLevel.MinimumLevel = level;
            }
        }
    }

    private sealed class LiveReporter(string title, ProgressTask task) : IProgressReporter
    {
        public void Report(string step, double fraction)
        {
            task.Description = Markup.Escape($"{title}: {step}");
            task.Value = Math.Clamp(fraction, 0, 1) * task.MaxValue;
        }
    }

    private sealed class PlainReporter(string title, Serilog.ILogger logger) : IProgressReporter
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private string _lastStep = "";
        private TimeSpan _lastLine = TimeSpan.MinValue;

        public void Report(string step, double fraction)
        {
            lock (_gate)
            {
                var now = _clock.Elapsed;
                if (step == _lastStep && now - _lastLine < PlainInterval)
                {
                    return;
                }

                _lastStep = step;
                _lastLine = now;
                logger.Information("{Title}: {Step}, {Percent}% after {Elapsed}{Remaining}", title, step, Math.Round(Math.Clamp(fraction, 0, 1) * 100), Format(now), Remaining(now, fraction));
            }
        }

        private static string Remaining(TimeSpan elapsed, double fraction) =>
            fraction is > 0.02 and < 1 ? $", about {Format(elapsed * ((1 - fraction) / fraction))} left" : "";

        private static string Format(TimeSpan time) => time.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalMinutes} min {time.Seconds} s")
            : string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.0} s");
    }
}
