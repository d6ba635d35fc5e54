using System.CommandLine;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline;
using Serilog.Core;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// The offline commands (<c>train</c>, <c>predict</c>, <c>evaluate</c>, <c>push-data</c>, <c>help</c>) on System.CommandLine.
/// With no command the program serves the API. Typed options map onto configuration keys, and any configuration key
/// can also be given as <c>--Section:Key=value</c>.
/// </summary>
public static class CommandLine
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int UsageError = 2;
    public const int NotPromoted = 3;

    public const string ExitCodes = "Exit codes: 0 success, 1 failure (the message says what and where), 2 usage error, 3 trained but not promoted (quality gate).";

    private static readonly string[] HelpTokens = ["--help", "-h", "-?", "help"];


    /// <summary>True when the arguments name a command (or ask for help); otherwise the program serves the API.</summary>
    public static bool IsCommand(string[] args) =>
        args.Length > 0 && args[0] is not "serve" && (!args[0].StartsWith('-') || HelpTokens.Contains(args[0]));

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        if (args is [] or ["help", .. _])
        {
            args = [.. args.Skip(1), "--help"];
        }

        var (configurationKeys, rest) = ConfigurationKeyTokens.Split(args);
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
            await Console.Error.WriteLineAsync($"error: {string.Join(" ", parsed.Errors.Select(e => e.Message).Distinct())} See '{command}--help'.").ConfigureAwait(false);
            return UsageError;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The command tree: one file per command builds its own <see cref="Command"/>.</summary>
    /// <param name="configurationKeys">The <c>--Section:Key=value</c> tokens, kept apart from the typed options' parser.</param>
    public static RootCommand Build(IReadOnlyList<string>? configurationKeys = null)
    {
        var options = new CliOptions(configurationKeys ?? []);
        var root = new RootCommand($"""
            NetworkSecurity: detects phishing websites from 30 URL, domain and page features.
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
            var configuration = BuildConfiguration(options.ConfigurationValues(parsed), options.ConfigurationKeys);
            var consoleLevel = new LoggingLevelSwitch();
            await using var logger = LoggingSetup.CreateLogger(configuration, $"{command.Name}_{DateTime.UtcNow:yyyyMMdd_HHmmss}.log", consoleLevel);
            try
            {
                return await body(new CommandContext(configuration, logger, consoleLevel, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                logger.Warning("{Command} cancelled", command.Name);
                return Failed;
            }
            catch (Exception ex) when (ex is PipelineException or NetworkSecurity.MongoDb.MongoException or IOException or UnauthorizedAccessException)
            {
                logger.Error("{Command} failed: {Error}", command.Name, ex.Message);
                return Failed;
            }
            catch (Microsoft.Extensions.Options.OptionsValidationException ex)
            {
                logger.Error("Invalid configuration: {Errors}", string.Join("; ", ex.Failures));
                return UsageError;
            }
        });

    /// <summary>appsettings.json (beside the program), then environment variables, then configuration keys and typed options.</summary>
    public static IConfiguration BuildConfiguration(IEnumerable<KeyValuePair<string, string?>> options, IReadOnlyList<string> configurationKeys) =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(configurationKeys.ToArray())
            .AddInMemoryCollection(options)
            .Build();
}

/// <summary>What a command's body gets: its configuration, its logger, the console's level switch and Ctrl+C.</summary>
internal sealed record CommandContext(IConfiguration Configuration, Serilog.ILogger Logger, LoggingLevelSwitch ConsoleLevel, CancellationToken CancellationToken);

/// <summary>
/// Configuration keys given as options: <c>--Section:Key=value</c>, <c>--Section:Key value</c> or <c>--ENV_NAME=value</c>.
/// Typed options are lower-case words with hyphens, so a name with anything else in it is a configuration key.
/// </summary>
internal static class ConfigurationKeyTokens
{
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

            keys.Add(token);
            if (!token.Contains('=', StringComparison.Ordinal) && i + 1 < args.Length)
            {
                keys.Add(args[++i]);
            }
        }

        return (keys.ToArray(), rest.ToArray());
    }

    private static bool IsConfigurationKey(string token)
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
