using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Cli;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Runs the web service. A setting it cannot use stops it at start with one line naming the setting and exit code 2
/// (as the commands do), a port it cannot listen on with exit code 1: never an unhandled exception's abort and trace.
/// A setting's error says where its value came from (settings file, environment variable, option).
/// </summary>
public static class ServiceHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        if ((CommandLine.ServeArgumentProblem(args) ?? SettingNames.EnvironmentProblem(Environment.GetEnvironmentVariables())) is { } problem)
        {
            await Console.Error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }

        ThreadPoolFloor.Raise();
        IConfiguration? configuration = null;
        var running = false;
        try
        {
            // --Api__MaxRows=5 is Api:MaxRows, as for the commands and in the environment.
            var builder = WebApplication.CreateBuilder(ConfigurationKeyTokens.WithSectionSeparators(args));
            configuration = builder.Configuration;
            HostSettings.ReadSettingsBesideProgram(builder.Configuration, builder.Environment.ContentRootPath, AppContext.BaseDirectory);
            SetVariablesSource.Replace(builder.Configuration);
            if (SettingNames.FileProblem(builder.Configuration) is { } misspelt)
            {
                await Console.Error.WriteLineAsync($"error: {misspelt}").ConfigureAwait(false);
                return CommandLine.UsageError;
            }

            if (SettingNames.WholeNumberProblem(builder.Configuration) is { } hexadecimal)
            {
                await Console.Error.WriteLineAsync($"error: invalid configuration: {SettingSources.Annotate(hexadecimal, configuration)}").ConfigureAwait(false);
                return CommandLine.UsageError;
            }

            // The host's own keys are named as the user sets them (--urls / ASPNETCORE_URLS): where is said by key.
            if ((Sourced(HostSettings.ListenUrlProblem(builder.Configuration[WebHostDefaults.ServerUrlsKey]), WebHostDefaults.ServerUrlsKey)
                ?? Sourced(HostSettings.EndpointProblem(builder.Configuration), null)
                ?? SourcedProblem(KestrelSettings.Problem(builder.Configuration, builder.Environment.ContentRootPath))
                ?? SourcedProblem(KestrelSettings.HttpsProblem(builder.Configuration))
                ?? SourcedProblem(KestrelSettings.Http3Problem(builder.Configuration))
                ?? SourcedProblem(KestrelSettings.CertificateProblem(builder.Configuration, builder.Environment.ContentRootPath))
                ?? Sourced(HostSettings.PortListProblem("ASPNETCORE_HTTP_PORTS (--http_ports)", builder.Configuration[WebHostDefaults.HttpPortsKey]), WebHostDefaults.HttpPortsKey)
                ?? Sourced(HostSettings.PortListProblem("ASPNETCORE_HTTPS_PORTS (--https_ports)", builder.Configuration[WebHostDefaults.HttpsPortsKey]), WebHostDefaults.HttpsPortsKey)) is { } listen)
            {
                await Console.Error.WriteLineAsync($"error: invalid configuration: {listen}").ConfigureAwait(false);
                return CommandLine.UsageError;
            }

            builder.AddNetworkSecurityApi();
            var app = builder.Build();
            // Every ValidateOnStart check now, before the host starts: a bad setting then ends here in one line, rather
            // than first as the host's "Hosting failed to start" error with a stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            app.UseNetworkSecurityApi();
            running = true;
            await app.RunAsync().ConfigureAwait(false);
            return CommandLine.Success;
        }
        catch (HostAbortedException)
        {
            throw; // the test host stops the app this way once it has what it needs
        }
        catch (DirectoryNotFoundException ex) when (configuration is null)
        {
            // Only the content root is opened while the builder is made: "the service stopped: DirectoryNotFoundException:
            // /nope/" (exit 1) named neither the setting nor that it is one.
            await Console.Error.WriteLineAsync($"error: invalid configuration: the content root (--contentRoot, ASPNETCORE_CONTENTROOT) is not a folder: {ex.Message}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"error: invalid configuration: {SettingSources.Annotate(CommandLine.Describe(ex.Failures), configuration)}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            // Several sections wrong at once: every failure, still on one line.
            var failures = ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures);
            await Console.Error.WriteLineAsync($"error: invalid configuration: {SettingSources.Annotate(CommandLine.Describe(failures), configuration)}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (Exception ex) when (IsSettingsError(ex, running, out var reason))
        {
            await Console.Error.WriteLineAsync($"error: invalid configuration: {SettingSources.Annotate(reason, configuration)}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"error: the service stopped: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            return CommandLine.Failed;
        }

        string? Sourced(string? problem, string? key) =>
            problem is null ? null : SettingSources.Annotate(problem, configuration, keys: key is null ? null : [key]);

        string? SourcedProblem(SettingProblem? problem) => problem is null ? null : Sourced(problem.Message, problem.Key);
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is a setting the service cannot use. While the settings are read and checked,
    /// also a value a library refuses (an ArgumentException, a UriFormatException); once the host runs, only
    /// configuration's own errors and a <see cref="Pipeline.SettingException"/>, as for the commands: an
    /// ArgumentException from a hosted service, or one a hosted service threw while stopping, is a failure (exit 1),
    /// and was reported as "invalid configuration" with exit 2.
    /// </summary>
    internal static bool IsSettingsError(Exception exception, bool running, out string reason) =>
        running ? CommandLine.IsConfigurationError(exception, out reason) : CommandLine.IsSettingsCheckError(exception, out reason);
}
