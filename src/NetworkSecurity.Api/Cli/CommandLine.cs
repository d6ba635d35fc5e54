using System.CommandLine;
using System.Runtime.InteropServices;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Artifacts;
using Serilog.Core;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// The offline commands (<c>train</c>, <c>predict</c>, <c>evaluate</c>, <c>push-data</c>, <c>help</c>) on System.CommandLine.
/// With no command the program serves the API. Typed options map onto configuration keys, and any configuration key
/// can also be given as <c>--Section:Key=value</c>.
/// </summary>
public static partial class CommandLine
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int UsageError = 2;
    public const int NotPromoted = 3;

    public const string ExitCodes = "Exit codes: 0 success, 1 failure (the message says what and where), 2 usage error, 3 trained but not promoted (quality gate).";

    private static readonly string[] HelpTokens = ["--help", "-h", "-?", "help"];


    // Options the web host itself reads (besides configuration keys such as --Api:MaxRows=10 or --MLFLOW_TRACKING_URI=...).
    private static readonly string[] HostOptions = ["--urls", "--environment", "--contentRoot", "--applicationName"];

    /// <summary>
    /// True when the arguments name a command, ask for help or the version, or start with something that is neither a
    /// command nor a setting of the web host (a typo: an error, not a server quietly starting); otherwise the program
    /// serves the API.
    /// </summary>
    public static bool IsCommand(string[] args) =>
        IsServeHelp(args)
        || (args.Length > 0 && args[0] is not "serve" && (!args[0].StartsWith('-') || !IsHostSetting(args[0])));

    // 'serve --help' (anywhere after serve) and 'help serve': the service's usage, not a start.
    private static bool IsServeHelp(string[] args) =>
        args is ["help", "serve"] || (args.Length > 0 && args[0] == "serve" && args.Any(arg => arg is "--help" or "-h" or "-?"));

    /// <summary>What 'serve --help' prints: the service has no typed options, only the host's and configuration keys.</summary>
    public const string ServeHelp = """
        Description:
          Serves the web API and page (the default when no command is given).

        Usage:
          NetworkSecurity.Api [serve] [--urls <url>] [--Section:Key=value ...]

        Options:
          --urls <url>            Where to listen (default http://localhost:8080; ASPNETCORE_URLS too).
          --Section:Key=value     Any configuration key, for example --Api:MaxRows=1000 or --Pipeline:Training:Mode=gbdt
                                  (environment variables: Api__MaxRows). The README's Configuration table lists them.

        A setting that does not parse stops the service at start with one line naming it (exit code 2).
        """;

    /// <summary>
    /// Why the arguments of the service (no command) are not all settings, or null: after <c>--urls x</c> a stray word or
    /// a typed option such as <c>--seed 7</c> would otherwise be ignored without a word.
    /// </summary>
    public static string? ServeArgumentProblem(string[] args)
    {
        var commands = Build().Subcommands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = args.Length > 0 && args[0] == "serve" ? 1 : 0; i < args.Length; i++)
        {
            var token = args[i];
            if (commands.Contains(token))
            {
                return $"'{token}' is a command: give it first, then its options and settings (for example 'train --mode gbdt --Pipeline:Seed=3').";
            }

            if (!token.StartsWith("--", StringComparison.Ordinal) || !IsHostSetting(token))
            {
                return $"'{token}' is not a setting of the service (--urls URL, or a configuration key such as --Api:MaxRows=1000); the commands are run as 'train', 'predict', … (see --help).";
            }

            if (SettingNames.Problem(token, token.Contains('=', StringComparison.Ordinal) || i + 1 >= args.Length ? null : args[i + 1]) is { } misspelt)
            {
                return misspelt;
            }

            if (!token.Contains('=', StringComparison.Ordinal))
            {
                i++; // its value
            }
        }

        return ConfigurationKeyTokens.KeyWithoutValue(args) ?? ConfigurationKeyTokens.RepeatedKey(args, HostOptions);
    }

    private static bool IsHostSetting(string token)
    {
        var name = token.Split('=', 2)[0];
        // Configuration keys (anything but a lower-case word): the test host passes even section names, as --Serilog=.
        return HostOptions.Contains(name, StringComparer.OrdinalIgnoreCase) || ConfigurationKeyTokens.IsConfigurationKey(token);
    }

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        if (IsServeHelp(args))
        {
            await Console.Out.WriteLineAsync(ServeHelp).ConfigureAwait(false);
            return Success;
        }

        if (args.Length > 1 && args[0] == "--version")
        {
            // System.CommandLine answers --version and drops whatever follows it without a word.
            await Console.Error.WriteLineAsync($"error: --version takes nothing after it (got '{string.Join(' ', args[1..])}').").ConfigureAwait(false);
            return UsageError;
        }

        if (args is [] or ["help", .. _])
        {
            args = [.. args.Skip(1), "--help"];
        }

        if ((ConfigurationKeyTokens.KeyWithoutValue(args) ?? ConfigurationKeyTokens.RepeatedKey(args, [])) is { } bare)
        {
            await Console.Error.WriteLineAsync($"error: {bare}").ConfigureAwait(false);
            return UsageError;
        }

        var (configurationKeys, rest) = ConfigurationKeyTokens.Split(args);
        // A capitalised word without a section (--Seed, --Test-Fraction) is a typo of an option, not a setting nothing reads;
        // a variable the product reads is one in any case (--s3_bucket=, as configuration and the service read it).
        if (configurationKeys.FirstOrDefault(k => k.StartsWith("--", StringComparison.Ordinal) && !ConfigurationKeyTokens.IsSectionKey(k)
                && !ConfigurationKeyTokens.IsEnvironmentKey(k) && !SettingNames.IsEnvironmentName(k)) is { } typo)
        {
            await Console.Error.WriteLineAsync($"error: unknown option '{typo.Split('=', 2)[0]}'. Options are lower-case (see --help); a configuration key names its section, as in --Pipeline:Seed=7 or --MLFLOW_TRACKING_URI=...").ConfigureAwait(false);
            return UsageError;
        }

        if (configurationKeys.Where(k => k.StartsWith("--", StringComparison.Ordinal)).Select(SettingNames.CommandHostKeyProblem).FirstOrDefault(p => p is not null) is { } hostKey)
        {
            await Console.Error.WriteLineAsync($"error: {hostKey}").ConfigureAwait(false);
            return UsageError;
        }

        if ((configurationKeys.Select((k, i) => k.StartsWith("--", StringComparison.Ordinal)
                ? SettingNames.Problem(k, k.Contains('=', StringComparison.Ordinal) || i + 1 >= configurationKeys.Length ? null : configurationKeys[i + 1])
                : null).FirstOrDefault(p => p is not null)
            ?? SettingNames.EnvironmentProblem(Environment.GetEnvironmentVariables())) is { } misspelt)
        {
            await Console.Error.WriteLineAsync($"error: {misspelt}").ConfigureAwait(false);
            return UsageError;
        }

        var root = Build(configurationKeys);

        if (root.Subcommands.All(c => c.Name != args[0]) && !args[0].StartsWith('-'))
        {
            await Console.Error.WriteLineAsync($"error: unknown command '{args[0]}'; the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))} and help.").ConfigureAwait(false);
            return UsageError;
        }

        var parsed = root.Parse(rest);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command == root ? "" : $"{parsed.CommandResult.Command.Name} ";
            var errors = parsed.Errors.Select(e => e.Message).Distinct().ToList();
            // No command is the service, not a missing command: "dotnet NetworkSecurity.Api.dll --foo" began "Required
            // command was not provided." before naming '--foo'. At the root, the tokens nothing took are the error.
            if (command.Length == 0 && parsed.UnmatchedTokens.Count > 0 && errors.Where(e => parsed.UnmatchedTokens.Any(t => e.Contains($"'{t}'", StringComparison.Ordinal))).ToList() is { Count: > 0 } unmatched)
            {
                errors = unmatched;
            }

            await Console.Error.WriteLineAsync($"error: {string.Join(" ", errors)}{NearestOption(parsed)} See '{command}--help'.").ConfigureAwait(false);
            return UsageError;
        }

        // Ctrl+C and SIGTERM cancel the command, which stops at its next check and cleans up after itself (temporary
        // files, the run's record, its log). System.CommandLine's own handling waited two seconds and then returned 130
        // or 143 while the work went on, so the process ended wherever it was: evaluate, which did not look at the
        // token, left seed folders without product.csv. A second signal ends the process at once.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => Stop(signal, stop));
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => Stop(signal, stop));
        return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, stop.Token).ConfigureAwait(false);
    }

    private static void Stop(PosixSignalContext signal, CancellationTokenSource stop)
    {
        if (stop.IsCancellationRequested)
        {
            return; // the second one: the default, the process ends
        }

        signal.Cancel = true;
        Console.Error.WriteLine($"{signal.Signal} received: stopping after the current step (send it again to stop at once).");
        stop.Cancel();
    }

    /// <summary>
    /// " Did you mean '--seeds'?" when an unknown option is a shortened or lengthened name of one this command takes
    /// (evaluate --seed, train --test-frac), else "": "Unrecognized command or argument '--seed'" alone left the user to
    /// find in --help that evaluate takes --seeds.
    /// </summary>
    private static string NearestOption(ParseResult parsed)
    {
        var names = parsed.CommandResult.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Where(n => n.StartsWith("--", StringComparison.Ordinal) && n != "--help").ToArray();
        foreach (var token in parsed.UnmatchedTokens.Where(t => t.StartsWith("--", StringComparison.Ordinal)))
        {
            var name = token.Split('=', 2)[0];
            if (name.Length > 3 && names.Where(n => n.StartsWith(name, StringComparison.Ordinal) || name.StartsWith(n, StringComparison.Ordinal)).ToArray() is [var near])
            {
                return $" Did you mean '{near}'?";
            }
        }

        return "";
    }

    /// <summary>The command tree: one file per command builds its own <see cref="Command"/>.</summary>
    /// <param name="configurationKeys">The <c>--Section:Key=value</c> tokens, kept apart from the typed options' parser.</param>
    public static RootCommand Build(IReadOnlyList<string>? configurationKeys = null)
    {
        var options = new CliOptions(configurationKeys ?? []);
        var root = new RootCommand($"""
            NetworkSecurity: detects phishing websites from URL, domain and page features (30 in the bundled data_schema/schema.yaml, or those of --schema / Pipeline:SchemaPath).
            With no command (or 'serve') the web API runs on http://localhost:8080.
            Any configuration key can also be given as --Section:Key=value (for example --Pipeline:ExpectedScore=0.9).
            {ExitCodes}
            """)
        {
            TrainCommand.Create(options),
            EvaluateCommand.Create(options),
            PredictCommand.Create(options),
            PushDataCommand.Create(options),
            ExportCommand.Create(options),
        };
        return root;
    }

    /// <summary>
    /// Runs a command body with its configuration and a log file, and turns the failures the product expects into exit codes:
    /// a bad file, data or setting is a one-line error with code 1 (or 2 for a bad setting), never a stack trace.
    /// </summary>
    internal static void SetBody(Command command, CliOptions options, Func<CommandContext, Task<int>> body) =>
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (options.Conflict(parsed) is { } conflict)
            {
                await Console.Error.WriteLineAsync($"error: {conflict}").ConfigureAwait(false);
                return UsageError;
            }

            IConfigurationRoot configuration;
            try
            {
                configuration = BuildConfiguration(options.ConfigurationValues(parsed), options.ConfigurationKeys);
            }
            catch (InvalidDataException ex) when (IsConfigurationError(ex, out var reason))
            {
                // No logger yet: the settings file it would be configured from does not parse.
                await Console.Error.WriteLineAsync($"error: invalid configuration: {reason}").ConfigureAwait(false);
                return UsageError;
            }

            if (SettingNames.FileProblem(configuration) is { } misspelt)
            {
                await Console.Error.WriteLineAsync($"error: {misspelt}").ConfigureAwait(false);
                return UsageError;
            }

            // The Kestrel section the service reads from the same files and environment, checked as the service checks it
            // (Kestrel__Limits__MaxRequestBodySize=5 or Kestrel__Endpoints__Http__Protocols=Bogus was let through by
            // push-data in compose, whose api container then refused it): keys and values, not the certificate files,
            // which are the service's machine's.
            if (SettingNames.WholeNumberProblem(configuration) is { } hexadecimal)
            {
                await Console.Error.WriteLineAsync($"error: invalid configuration: {SettingSources.Annotate(hexadecimal, configuration)}").ConfigureAwait(false);
                return UsageError;
            }

            // ASPNETCORE_Kestrel__… too, which the service's host reads and the commands' configuration does not: they
            // were let through (ASPNETCORE_Kestrel__Limits__MaxRequestBodySize=5), where the service refuses them.
            var hostVariables = new ConfigurationBuilder().AddEnvironmentVariables("ASPNETCORE_").Build();
            var kestrel = KestrelProblem(configuration) ?? KestrelProblem(hostVariables);
            if (kestrel is not null)
            {
                await Console.Error.WriteLineAsync($"error: invalid configuration: {kestrel}").ConfigureAwait(false);
                return UsageError;
            }

            // A setting's error says where its value came from: two settings files, the environment or an option.
            string Sourced(string problem) => SettingSources.Annotate(problem, configuration, options.OptionFor);
            var consoleLevel = new LoggingLevelSwitch();
            if (LoggingSetup.PrepareDirectory(configuration) is { } logProblem)
            {
                await Console.Error.WriteLineAsync($"error: {Sourced(logProblem)}").ConfigureAwait(false);
                return UsageError;
            }

            if (LoggingSetup.SettingsProblem(configuration) is { } loggingProblem)
            {
                await Console.Error.WriteLineAsync($"error: {Sourced(loggingProblem)}").ConfigureAwait(false);
                return UsageError;
            }

            Serilog.Core.Logger logger;
            var logFile = LogFileName(command.Name);
            try
            {
                logger = LoggingSetup.CreateLogger(configuration, logFile, consoleLevel);
            }
            catch (Exception ex)
            {
                // Serilog reads its levels and sinks from configuration: any failure to build the logger is a bad setting.
                await Console.Error.WriteLineAsync($"error: {Sourced($"invalid logging configuration: {ex.Message}")}").ConfigureAwait(false);
                return UsageError;
            }

            LoggingSetup.PruneCommandLogs(configuration);
            var step = new CommandStep();
            await using (logger.ConfigureAwait(false))
            {
                try
                {
                    if (SettingsProblem(configuration) is { } settings)
                    {
                        logger.Error("Invalid configuration: {Errors}", Sourced(settings));
                        return UsageError;
                    }

                    // With the collection as the source the CSV is never read: a --data given was dropped without a word,
                    // and the run trained on the collection, not on the file asked for.
                    if (parsed.GetResult(options.Data) is { Implicit: false } && string.Equals(configuration["Pipeline:DataSource"], "mongodb", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new UsageException($"--data '{configuration["Pipeline:DataPath"]}' is a CSV file, but the data source (--source, Pipeline:DataSource) is mongodb, which reads the collection: drop --data, or use --source csv.");
                    }

                    if (options.CommandKeyProblem(configuration) is { } commandKey)
                    {
                        throw new UsageException(commandKey);
                    }

                    return await body(new CommandContext(configuration, logger, consoleLevel, cancellationToken) { Step = step }).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    logger.Warning("{Command} cancelled", command.Name);
                    return Failed;
                }
                catch (Exception ex) when (ex is PipelineException or NetworkSecurity.MongoDb.MongoException or IOException or UnauthorizedAccessException or Pipeline.DataSources.InputLimitException)
                {
                    logger.Error("{Command} failed: {Error}", command.Name, ex.Message);
                    return Failed;
                }
                catch (Microsoft.Extensions.Options.OptionsValidationException ex)
                {
                    logger.Error("Invalid configuration: {Errors}", Sourced(Describe(ex.Failures)));
                    return UsageError;
                }
                catch (UsageException ex)
                {
                    logger.Error("{Command}: {Error}", command.Name, Sourced(ex.Message));
                    return UsageError;
                }
                catch (Exception ex) when (IsConfigurationError(ex, out var reason))
                {
                    logger.Error("Invalid configuration: {Error}", Sourced(reason));
                    return UsageError;
                }
                catch (Exception ex)
                {
                    // Not a failure the product expects (a bug, or data it does not handle): one line on the console that
                    // names the step, the stack trace in the log file only (the console template leaves it out).
                    var trace = string.Equals(LoggingSetup.LogDirectory(configuration), "none", StringComparison.OrdinalIgnoreCase)
                        ? "" : $" (the stack trace is in {Path.Combine(LoggingSetup.LogDirectory(configuration), logFile)})";
                    // One line: ArgumentOutOfRangeException puts "Actual value was NaN." on a line of its own.
                    logger.Error(ex, "{Command} failed unexpectedly during {Step}: {Type}: {Error}{Trace}", command.Name, step.Current, ex.GetType().Name, ex.Message.ReplaceLineEndings(" "), trace);
                    return Failed;
                }
            }
        });

    /// <summary>
    /// Refuses an output inside the model store: a file there breaks the live version's manifest (or, as CURRENT, the
    /// pointer itself), and promotion and pruning own that folder.
    /// </summary>
    internal static void NotInModelStore(string output, string finalModelDirectory, string option)
    {
        if (SafeFile.LeadsInto(output, finalModelDirectory))
        {
            throw new UsageException($"{option} '{output}' is inside the final model folder '{finalModelDirectory}', which holds the live model; write elsewhere.");
        }
    }

    /// <summary>
    /// Refuses an output path that cannot be a file (one ending in '/', a folder, a device, or under a file) as the usage
    /// error it is, before any work: export --output x/ was exit 1 ("export failed"), where --output - is exit 2.
    /// </summary>
    /// <returns>The file a write to <paramref name="output"/> replaces (<see cref="SafeFile.Target"/>).</returns>
    internal static string OutputFile(string output, string option)
    {
        try
        {
            return SafeFile.Target(output);
        }
        catch (IOException ex)
        {
            throw new UsageException($"{option}: {ex.Message}");
        }
    }

    // One file per run: two runs started in the same second (or the same run id) must not share one log.
    private static string LogFileName(string command) => $"{command}_{DateTime.UtcNow:yyyyMMdd_HHmmss}_{Environment.ProcessId}.log";

    /// <summary>
    /// Whether <paramref name="exception"/>, thrown while settings are only read and checked (no data touched yet, as in
    /// <see cref="SettingsProblem"/> or the service's start), says a setting is malformed: there, also a value a library
    /// refuses (a URI that does not parse, a number out of range for its type).
    /// </summary>
    internal static bool IsSettingsCheckError(Exception exception, out string reason)
    {
        if (IsConfigurationError(exception, out reason))
        {
            return true;
        }

        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is UriFormatException or FormatException or OverflowException or ArgumentException or NotSupportedException
                || ex.GetType().FullName == "Amazon.Runtime.AmazonClientException")
            {
                reason = ex.Message;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="exception"/> comes from configuration wherever it is thrown: a settings file that does not
    /// parse, a value that does not convert, or a <see cref="SettingException"/> (a grid the search cannot use). Not any
    /// ArgumentException or OverflowException: thrown deep in a run, those are a bug or data the code does not handle,
    /// and were reported as "Invalid configuration" with exit code 2.
    /// </summary>
    internal static bool IsConfigurationError(Exception exception, out string reason)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is InvalidDataException && ex.Message.StartsWith("Failed to load configuration from file", StringComparison.Ordinal))
            {
                // A settings file that is not JSON: its path, and where the parser stopped (line and byte), not only
                // "Could not parse the JSON file.". Counted from 1, as editors do: the parser's "LineNumber: 1" was line 2.
                reason = ex.GetBaseException() is System.Text.Json.JsonException json
                    ? $"{ex.Message} {Endpoints.JsonRecordParser.Describe(json)}"
                    : $"{ex.Message} {ex.GetBaseException().Message}";
                return true;
            }

            if (ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
            {
                // In the settings' own words (the key, the value, what the key takes), not the binder's: "Failed to convert
                // configuration value '' at 'Pipeline:Seed' to type 'System.Int32'. ( is not a valid value for Int32. …)".
                reason = SettingNames.ConversionProblem(ex.Message)
                    ?? (ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message);
                return true;
            }

            if (ex is SettingException)
            {
                reason = ex.Message;
                return true;
            }
        }

        reason = "";
        return false;
    }

    /// <summary>
    /// Every setting the service would check at start, checked for every command alike: one that does not convert or is
    /// out of range is a usage error even where this command does not use it (predict took --Api:MaxRows=abc quietly,
    /// and --final-model naming a file was "no model has been promoted").
    /// </summary>
    internal static string? SettingsProblem(IConfiguration configuration)
    {
        try
        {
            var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection()
                .AddSingleton(configuration)
                .AddLogging()
                .AddTrainingPipeline(configuration);
            services.AddApiOptions(configuration, uploadLimitsFitSchema: false);
            services.AddOptions<Replication.ReplicationOptions>().Bind(configuration.GetSection(Replication.ReplicationOptions.SectionName)).ValidateDataAnnotations();
            using var provider = services.BuildServiceProvider();
            _ = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Pipeline.Configuration.PipelineOptions>>().Value;
            _ = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value;
            _ = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Replication.ReplicationOptions>>().Value;
            return null;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            return Describe(ex.Failures);
        }
        catch (Exception ex) when (IsSettingsCheckError(ex, out var reason))
        {
            return reason;
        }
    }

    // The Kestrel section's first problem in a configuration, said with where its value came from, or null.
    private static string? KestrelProblem(IConfiguration configuration) =>
        KestrelSettings.Problem(configuration, contentRoot: null) is { } unread
            ? SettingSources.Annotate(unread.Message, configuration, keys: [unread.Key])
            : HostSettings.EndpointProblem(configuration) is { } endpoint ? SettingSources.Annotate(endpoint, configuration) : null;

    /// <summary>
    /// Validation failures in one line, each in the settings' own terms: "DataAnnotation validation failed for
    /// 'PipelineOptions' members: 'DataSource' with the error: '…'." becomes "Pipeline:DataSource: …".
    /// </summary>
    internal static string Describe(IEnumerable<string> failures) =>
        string.Join("; ", failures.Select(failure => AnnotationFailure().Match(failure) is { Success: true } match
            ? Pipeline.Configuration.Setting.Said($"{SectionOf(match.Groups["type"].Value)}{match.Groups["member"].Value}", match.Groups["error"].Value)
            : failure));

    private static string SectionOf(string optionsType) => optionsType switch
    {
        "PipelineOptions" => "Pipeline:",
        "TrainingOptions" => "Pipeline:Training:",
        "ApiOptions" => "Api:",
        "ReplicationOptions" => "Replication:",
        _ => "",
    };

    [System.Text.RegularExpressions.GeneratedRegex("^DataAnnotation validation failed for '(?<type>[^']*)' members: '(?<member>[^']*)' with the error: '(?<error>.*)'\\.$")]
    private static partial System.Text.RegularExpressions.Regex AnnotationFailure();

    /// <summary>
    /// appsettings.json, then appsettings.{Environment}.json (each the working folder's if it has one, else the program's,
    /// as for the service), then environment variables (an empty one is unset), then configuration keys and typed options.
    /// </summary>
    public static IConfigurationRoot BuildConfiguration(IEnumerable<KeyValuePair<string, string?>> options, IReadOnlyList<string> configurationKeys)
    {
        var working = Directory.GetCurrentDirectory();
        var environmentFile = HostSettings.EnvironmentSettingsFile(Environment.GetEnvironmentVariable);
        var environmentFolder = HostSettings.SettingsFolder(working, AppContext.BaseDirectory, environmentFile);
        return new ConfigurationBuilder()
            .AddJsonFile(new Microsoft.Extensions.FileProviders.PhysicalFileProvider(HostSettings.SettingsFolder(working, AppContext.BaseDirectory)), "appsettings.json", optional: true, reloadOnChange: false)
            .AddJsonFile(new Microsoft.Extensions.FileProviders.PhysicalFileProvider(environmentFolder), HostSettings.NameOnDisk(environmentFolder, environmentFile), optional: true, reloadOnChange: false)
            .Add(new SetVariablesSource())
            .AddCommandLine(configurationKeys.ToArray())
            .AddInMemoryCollection(options)
            .Build();
    }
}

/// <summary>A command given wrongly (an option it does not take, a value it cannot use): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>What a command's body gets: its configuration, its logger, the console's level switch and Ctrl+C.</summary>
internal sealed record CommandContext(IConfiguration Configuration, Serilog.ILogger Logger, LoggingLevelSwitch ConsoleLevel, CancellationToken CancellationToken)
{
    /// <summary>The step the command is on, for the message of a failure nobody expected.</summary>
    public CommandStep Step { get; init; } = new();
}

/// <summary>The step a command is on ("Training", "seed 3 (4 of 5)"), as its progress last said; set from any thread.</summary>
public sealed class CommandStep
{
    private volatile string _current = "start-up";

    public string Current
    {
        get => _current;
        set => _current = value;
    }
}

/// <summary>
/// Configuration keys given as options: <c>--Section:Key=value</c>, <c>--Section:Key value</c> or <c>--ENV_NAME=value</c>.
/// Typed options are lower-case words with hyphens, so a name with anything else in it is a configuration key.
/// </summary>
internal static class ConfigurationKeyTokens
{
    /// <summary>
    /// A configuration key given without a value (last, or followed by another option): the configuration would drop
    /// it silently, or take the next option as its value ("--Pipeline:ExpectedScore --seed 7").
    /// </summary>
    public static string? KeyWithoutValue(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (!IsConfigurationKey(token) || token.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                return $"the setting '{token}' has no value: give it as {token}=VALUE (or {token} VALUE).";
            }

            i++; // its value
        }

        return null;
    }

    /// <summary>
    /// A configuration key given twice with different values (--Pipeline:Seed=3 --Pipeline__Seed=5), or null: the last
    /// one won without a word, where a typed option given twice is an error. <paramref name="hostOptions"/> (--urls) too.
    /// </summary>
    public static string? RepeatedKey(string[] args, IReadOnlyCollection<string> hostOptions)
    {
        var given = new Dictionary<string, (string Written, string Value)>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? token : token[..equals];
            if (!IsConfigurationKey(token) && !hostOptions.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = equals >= 0 ? token[(equals + 1)..] : i + 1 < args.Length ? args[++i] : "";
            var written = equals >= 0 ? token : $"{token} {value}";
            var key = name.Replace("__", ":", StringComparison.Ordinal);
            if (given.TryGetValue(key, out var first) && !string.Equals(first.Value, value, StringComparison.Ordinal))
            {
                return $"{first.Written} and {written} set the same setting to different values; give one of them.";
            }

            given.TryAdd(key, (written, value));
        }

        return null;
    }

    public static (string[] Keys, string[] Others) Split(string[] args)
    {
        var keys = new List<string>();
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (!IsConfigurationKey(token))
            {
                rest.Add(token);
                continue;
            }

            keys.Add(WithSectionSeparators(token));
            if (!token.Contains('=', StringComparison.Ordinal) && i + 1 < args.Length)
            {
                keys.Add(args[++i]);
            }
        }

        return (keys.ToArray(), rest.ToArray());
    }

    /// <summary>
    /// <paramref name="args"/> with every configuration key's <c>__</c> read as <c>:</c>, values untouched: what the
    /// service hands its host, which would otherwise keep <c>--Api__TrainApiKey=…</c> as a key nothing reads.
    /// </summary>
    public static string[] WithSectionSeparators(string[] args)
    {
        var result = (string[])args.Clone();
        for (var i = 0; i < result.Length; i++)
        {
            if (IsConfigurationKey(result[i]))
            {
                var hasValue = result[i].Contains('=', StringComparison.Ordinal);
                result[i] = WithSectionSeparators(result[i]);
                i += hasValue ? 0 : 1; // its value, as it is
            }
        }

        return result;
    }

    // Pipeline__Seed means Pipeline:Seed, as in an environment variable (the command-line source alone would keep the
    // name as it is, a key nothing reads).
    private static string WithSectionSeparators(string token)
    {
        var equals = token.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? token.Replace("__", ":", StringComparison.Ordinal) : token[..equals].Replace("__", ":", StringComparison.Ordinal) + token[equals..];
    }

    /// <summary>A key with a section: <c>--Pipeline:Seed=7</c> or <c>--Pipeline__Seed=7</c>.</summary>
    public static bool IsSectionKey(string token) =>
        IsConfigurationKey(token) && token.Split('=', 2)[0] is var name && (name.Contains(':', StringComparison.Ordinal) || name.Contains("__", StringComparison.Ordinal));

    /// <summary>An environment-style key: <c>--MLFLOW_TRACKING_URI=...</c> (capitals, digits and underscores).</summary>
    public static bool IsEnvironmentKey(string token)
    {
        var name = token.Split('=', 2)[0].AsSpan(2);
        foreach (var c in name)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return name.Length > 0;
    }

    /// <summary>Anything but a lower-case word with hyphens (a typed option) after the dashes.</summary>
    public static bool IsConfigurationKey(string token)
    {
        if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length < 3)
        {
            return false;
        }

        var name = token.AsSpan(2);
        var equals = name.IndexOf('=');
        if (equals >= 0)
        {
            name = name[..equals];
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return true;
            }
        }

        return false;
    }
}
