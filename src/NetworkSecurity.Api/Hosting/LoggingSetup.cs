using System.Text.RegularExpressions;
using Serilog;
using Serilog.Events;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Serilog: levels from the "Serilog" configuration section, console plus a log file under Logs/.</summary>
public static partial class LoggingSetup
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    // A command's console: its messages say what happened in a line; a stack trace goes to its log file only.
    private const string CommandConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}";
    private const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <param name="fileName">File name under the log directory, e.g. "train_20261123_101500.log"; null for a daily rolling service log.</param>
    /// <param name="consoleLevel">When given, the console's minimum level can be raised while a live progress display runs.</param>
    /// <remarks>
    /// A command's logger: its console lines go to standard error, all of them, so that standard output carries only
    /// what the command answers (train's result, evaluate's table, push-data's count): `evaluate &gt; table.md` held the
    /// log lines too. Exceptions' stack traces are written to the log file, not the console.
    /// </remarks>
    public static Serilog.Core.Logger CreateLogger(IConfiguration configuration, string? fileName, Serilog.Core.LoggingLevelSwitch? consoleLevel = null) =>
        Configure(new LoggerConfiguration(), configuration, fileName, consoleLevel, standardErrorFrom: LogEventLevel.Verbose, consoleTemplate: CommandConsoleTemplate).CreateLogger();

    /// <summary>Logging:Directory, or "Logs" when unset or empty; "none" writes no file.</summary>
    public static string LogDirectory(IConfiguration configuration) =>
        configuration["Logging:Directory"] is { Length: > 0 } directory ? directory : "Logs";

    /// <summary>
    /// Makes the log folder, or says why it cannot be made (null when it is there, or "none"): the file sink gives up
    /// silently on a folder it cannot make, and a log asked for and not written is a bad setting.
    /// </summary>
    public static string? PrepareDirectory(IConfiguration configuration)
    {
        var directory = LogDirectory(configuration);
        if (string.Equals(directory, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (directory.Trim().Length != directory.Length)
        {
            return $"the log folder '{directory}' (--logs, Logging:Directory) has spaces around it: give the path without them.";
        }

        // A log file among a version's files fails its manifest check, and the live model with it.
        var finalModel = configuration["Pipeline:FinalModelDirectory"] is { Length: > 0 } store ? store : "final_model";
        if (Pipeline.Artifacts.SafeFile.LeadsInto(directory, finalModel))
        {
            return $"the log folder '{directory}' (--logs, Logging:Directory) is inside the final model folder '{finalModel}', which holds the live model; log elsewhere.";
        }

        try
        {
            Directory.CreateDirectory(directory);
            // A folder that is there but not writable (a bind mount owned by root, the image's user 10001) was let
            // through: the file sink gave up silently and the command or service ran without a log file.
            using (new FileStream(Path.Combine(directory, $".write-check-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot write log files to '{directory}' (--logs, Logging:Directory): {ex.Message} Make it writable for this user, or set Logging__Directory=none to log to the console only.";
        }
    }

    /// <summary>
    /// Why the "Serilog" section cannot be used (a level that is not one, an unknown sink), or null. The service builds
    /// its logger when first asked for it, after start-up checks: it reads the section here first, so such a value is a
    /// setting error at start (exit 2), as it is for the commands.
    /// </summary>
    public static string? SettingsProblem(IConfiguration configuration)
    {
        // The levels first, named by their key: Serilog took 7 or -1 (no level: the console went silent) and named
        // neither the key nor, for an override, the problem ("No LoggingLevelSwitch has been declared with name 'Loud'").
        var levels = configuration.GetSection("Serilog:MinimumLevel");
        // An empty value is unset (an empty JSON object reads as ""), as Serilog takes it.
        var values = new[] { levels, levels.GetSection("Default") }.Concat(levels.GetSection("Override").GetChildren());
        // Serilog takes an empty MinimumLevel or override for unset, but not an empty Default given as an option or in a
        // settings file (an empty variable is unset, SetVariablesSource): "The value  is not a valid Serilog level." named
        // neither the key nor where it was set.
        if (string.IsNullOrEmpty(levels.Value) && levels.GetSection("Default").Value is { } empty && string.IsNullOrWhiteSpace(empty))
        {
            return "invalid logging configuration: Serilog:MinimumLevel:Default is empty: give a level (Verbose, Debug, Information, Warning, Error, Fatal) or leave it out.";
        }

        // A blank level (spaces only: an env file's "Serilog__MinimumLevel__Override__Microsoft= " or a YAML value of spaces) is
        // not the empty one Serilog takes for unset: it said "The value   is not a valid Serilog level." or, for an override,
        // "No LoggingLevelSwitch has been declared with name \" \"", naming neither the key nor where it was set.
        if (values.FirstOrDefault(v => v.Value is { Length: > 0 } blank && string.IsNullOrWhiteSpace(blank)) is { } spaces)
        {
            return $"invalid logging configuration: {spaces.Path} is blank: give a level (Verbose, Debug, Information, Warning, Error, Fatal) or leave it out.";
        }

        // Serilog names a switch declared without its '$' ("controlSwitch") "$controlSwitch", the name its README gives overrides.
        var switches = configuration.GetSection("Serilog:LevelSwitches").GetChildren().Select(s => s.Key.StartsWith('$') ? s.Key : "$" + s.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var level in values.Where(v => !string.IsNullOrWhiteSpace(v.Value)))
        {
            // An override may name a level switch declared under Serilog:LevelSwitches ("$app"), as Serilog reads it (its
            // own level is checked by Serilog below); one not declared is refused here, naming the key.
            if (level.Path.StartsWith("Serilog:MinimumLevel:Override:", StringComparison.OrdinalIgnoreCase) && switches.Contains(level.Value!.Trim()))
            {
                continue;
            }

            if (!(Enum.TryParse<LogEventLevel>(level.Value!.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)))
            {
                return $"invalid logging configuration: {level.Path} '{level.Value}' is not a level (Verbose, Debug, Information, Warning, Error, Fatal){(level.Path.StartsWith("Serilog:MinimumLevel:Override:", StringComparison.OrdinalIgnoreCase) ? " nor a switch declared under Serilog:LevelSwitches" : "")}.";
            }
        }

        try
        {
            new LoggerConfiguration().ReadFrom.Configuration(configuration).CreateLogger().Dispose();
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or InvalidCastException)
        {
            return $"invalid logging configuration (Serilog section): {ex.Message}";
        }
    }

    /// <param name="standardErrorFrom">The console's lines from this level go to standard error, the others to standard output (the service's errors only).</param>
    /// <param name="consoleTemplate">The console's line template (the service's by default, stack traces included).</param>
    public static LoggerConfiguration Configure(LoggerConfiguration logger, IConfiguration configuration, string? fileName, Serilog.Core.LoggingLevelSwitch? consoleLevel = null, LogEventLevel standardErrorFrom = LogEventLevel.Error, string consoleTemplate = ConsoleTemplate)
    {
        var directory = LogDirectory(configuration);
        logger = logger
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            // ASP.NET Core's own "request starting/finished" lines (our request log replaces them): off, because while its
            // category is enabled at any level the host builds an Activity for every request, on the hot path.
            .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LevelAlias.Off)
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            // "Not ready yet" is the readiness probe's answer, not an error worth a log line every few seconds.
            .Filter.ByExcluding(Serilog.Filters.Matching.FromSource("Microsoft.Extensions.Diagnostics.HealthChecks"))
            // The host's own "Hosting failed to start" (a port in use) comes with the exception's whole trace; the service
            // says the same in one line on stderr (ServiceHost), so on the console it is left out (the log file keeps it).
            .WriteTo.Logger(console => console
                .Filter.ByExcluding(IsHostStartFailure)
                .WriteTo.Async(sink => sink.Console(outputTemplate: consoleTemplate, standardErrorFromLevel: standardErrorFrom, levelSwitch: consoleLevel)));
        if (!string.Equals(directory, "none", StringComparison.OrdinalIgnoreCase))
        {
            logger = fileName is null
                ? logger.WriteTo.Async(sink => sink.File(Path.Combine(directory, "networksecurity-.log"), outputTemplate: FileTemplate, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14,
                    fileSizeLimitBytes: 100L * 1024 * 1024, rollOnFileSizeLimit: true, shared: true))
                : logger.WriteTo.Async(sink => sink.File(Path.Combine(directory, fileName), outputTemplate: FileTemplate, shared: true));
        }

        return logger;
    }

    /// <summary>How long a command's own log file is kept: as long as the service keeps its daily files (14).</summary>
    public static readonly TimeSpan CommandLogRetention = TimeSpan.FromDays(14);

    /// <summary>
    /// Removes the commands' log files (one per process, <c>&lt;command&gt;_&lt;time&gt;_&lt;pid&gt;.log</c>) last written more
    /// than <see cref="CommandLogRetention"/> ago: a command run from cron every few minutes left thousands a month,
    /// which nothing removed. Other files in the folder (the service's daily files roll by themselves) are left alone.
    /// </summary>
    public static void PruneCommandLogs(IConfiguration configuration)
    {
        var directory = LogDirectory(configuration);
        if (string.Equals(directory, "none", StringComparison.OrdinalIgnoreCase) || !Directory.Exists(directory))
        {
            return;
        }

        var cutoff = DateTime.UtcNow - CommandLogRetention;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*_*_*.log"))
        {
            if (!CommandLogName().IsMatch(file.Name) || file.LastWriteTimeUtc >= cutoff)
            {
                continue;
            }

            try
            {
                file.Delete();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not ours to delete, or in use: the next command tries again.
            }
        }
    }

    [GeneratedRegex(@"^[a-z][a-z-]*_\d{8}_\d{6}_\d+\.log$", RegexOptions.CultureInvariant)]
    private static partial Regex CommandLogName();

    private static bool IsHostStartFailure(LogEvent e) =>
        e.Level == LogEventLevel.Error
        && e.MessageTemplate.Text == "Hosting failed to start"
        && e.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: "Microsoft.Extensions.Hosting.Internal.Host" };
}
