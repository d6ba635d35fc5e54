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
/// line when the step changes and every few seconds otherwise, also while the step reports nothing.
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

    /// <param name="step">Told each step reported, so that a failure can name the step it happened in.</param>
    public static async Task<T> RunAsync<T>(string title, Serilog.ILogger logger, LoggingLevelSwitch? consoleLevel, Func<IProgressReporter, Task<T>> work, CommandStep? step = null)
    {
        if (!IsInteractive)
        {
            using var plain = new PlainReporter(title, logger);
            return await work(new StepReporter(plain, step)).ConfigureAwait(false);
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
                    var result = await work(new StepReporter(new LiveReporter(title, task), step)).ConfigureAwait(false);
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

    private sealed class StepReporter(IProgressReporter inner, CommandStep? step) : IProgressReporter
    {
        public void Report(string current, double fraction)
        {
            if (step is not null)
            {
                step.Current = current;
            }

            inner.Report(current, fraction);
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

    /// <summary>
    /// A line when the step changes, at most every <see cref="PlainInterval"/> within a step, and one every interval while
    /// nothing reports: a step that reports nothing for long (a single fit, the feature importance, a slow store) left
    /// CI and container logs silent, where README promises a line every 3 s.
    /// </summary>
    private sealed class PlainReporter : IProgressReporter, IDisposable
    {
        private readonly string _title;
        private readonly Serilog.ILogger _logger;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private readonly Timer _heartbeat;
        private string _lastStep = "";
        private double _lastFraction;
        private TimeSpan _lastLine = TimeSpan.MinValue;
        private bool _done;

        public PlainReporter(string title, Serilog.ILogger logger)
        {
            (_title, _logger) = (title, logger);
            _heartbeat = new Timer(_ => Beat(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }

        public void Report(string step, double fraction)
        {
            lock (_gate)
            {
                var now = _clock.Elapsed;
                _lastFraction = fraction;
                if (_done || (step == _lastStep && now - _lastLine < PlainInterval))
                {
                    return;
                }

                _lastStep = step;
                Write(now);
            }
        }

        private void Beat()
        {
            lock (_gate)
            {
                var now = _clock.Elapsed;
                if (!_done && _lastStep.Length > 0 && now - _lastLine >= PlainInterval)
                {
                    Write(now);
                }
            }
        }

        private void Write(TimeSpan now)
        {
            _lastLine = now;
            _logger.Information("{Title}: {Step}, {Percent}% after {Elapsed}{Remaining}", _title, _lastStep, Math.Round(Math.Clamp(_lastFraction, 0, 1) * 100), Format(now), Remaining(now, _lastFraction));
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _done = true;
            }

            _heartbeat.Dispose();
        }

        private static string Remaining(TimeSpan elapsed, double fraction) =>
            fraction is > 0.02 and < 1 ? $", about {Format(elapsed * ((1 - fraction) / fraction))} left" : "";

        private static string Format(TimeSpan time) => time.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalMinutes} min {time.Seconds} s")
            : string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.0} s");
    }
}
