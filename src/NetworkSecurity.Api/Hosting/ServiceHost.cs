using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Cli;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Runs the web service. A setting it cannot use stops it at start with one line naming the setting and exit code 2
/// (as the commands do), a port it cannot listen on with exit code 1: never an unhandled exception's abort and trace.
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
        try
        {
            // --Api__MaxRows=5 is Api:MaxRows, as for the commands and in the environment.
            var builder = WebApplication.CreateBuilder(ConfigurationKeyTokens.WithSectionSeparators(args));
            HostSettings.ReadSettingsBesideProgram(builder.Configuration, builder.Environment.ContentRootPath, AppContext.BaseDirectory);
            if (SettingNames.FileProblem(builder.Configuration) is { } misspelt)
            {
                await Console.Error.WriteLineAsync($"error: {misspelt}").ConfigureAwait(false);
                return CommandLine.UsageError;
            }

            if ((HostSettings.ListenUrlProblem(builder.Configuration[WebHostDefaults.ServerUrlsKey])
                ?? HostSettings.EndpointProblem(builder.Configuration)
                ?? HostSettings.PortListProblem("ASPNETCORE_HTTP_PORTS (--http_ports)", builder.Configuration[WebHostDefaults.HttpPortsKey])
                ?? HostSettings.PortListProblem("ASPNETCORE_HTTPS_PORTS (--https_ports)", builder.Configuration[WebHostDefaults.HttpsPortsKey])) is { } listen)
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
            await app.RunAsync().ConfigureAwait(false);
            return CommandLine.Success;
        }
        catch (HostAbortedException)
        {
            throw; // the test host stops the app this way once it has what it needs
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"error: invalid configuration: {CommandLine.Describe(ex.Failures)}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            // Several sections wrong at once: every failure, still on one line.
            var failures = ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures);
            await Console.Error.WriteLineAsync($"error: invalid configuration: {CommandLine.Describe(failures)}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (Exception ex) when (CommandLine.IsSettingsCheckError(ex, out var reason))
        {
            await Console.Error.WriteLineAsync($"error: invalid configuration: {reason}").ConfigureAwait(false);
            return CommandLine.UsageError;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"error: the service stopped: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            return CommandLine.Failed;
        }
    }
}
