using System.Globalization;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Start-up checks and fixes of the web host's own settings, before anything is built from them.</summary>
internal static class HostSettings
{
    private const string SettingsFile = "appsettings.json";

    /// <summary>
    /// The host reads appsettings.json from its content root, the working folder; `dotnet run --project` starts in the
    /// repository root (RunWorkingDirectory), where there is none, so the defaults beside the program were never read
    /// (the commands always read them). Then the file beside the program takes the same place among the sources: the
    /// environment and the command line still override it.
    /// </summary>
    public static void ReadSettingsBesideProgram(ConfigurationManager configuration, string contentRoot, string programFolder)
    {
        if (File.Exists(Path.Combine(contentRoot, SettingsFile)) || !File.Exists(Path.Combine(programFolder, SettingsFile)))
        {
            return;
        }

        var sources = configuration.Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is JsonConfigurationSource { Path: SettingsFile } json)
            {
                sources[i] = new JsonConfigurationSource { Path = SettingsFile, Optional = true, ReloadOnChange = json.ReloadOnChange, FileProvider = new PhysicalFileProvider(programFolder) };
                return;
            }
        }
    }

    /// <summary>
    /// What is wrong with the addresses to listen on (--urls, ASPNETCORE_URLS), or null. Kestrel reads a port that is
    /// not a number as no port at all and listens on every interface, port 80: a typo must stop the start instead.
    /// </summary>
    public static string? ListenUrlProblem(string? urls)
    {
        if (urls is null)
        {
            return null;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
            var scheme = schemeEnd < 0 ? "" : url[..schemeEnd];
            if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
            {
                return $"--urls / ASPNETCORE_URLS: '{url}' is not an http:// or https:// address to listen on.";
            }

            var rest = url[(schemeEnd + 3)..];
            if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
            {
                continue; // a Unix socket path
            }

            var authority = rest.IndexOf('/') is var slash and >= 0 ? rest[..slash] : rest;
            var portStart = !authority.StartsWith('[') ? authority.LastIndexOf(':')
                : authority.IndexOf("]:", StringComparison.Ordinal) is var close and >= 0 ? close + 1 : -1;
            var host = portStart >= 0 ? authority[..portStart] : authority;
            if (host.Length == 0 || host == "[]")
            {
                return $"--urls / ASPNETCORE_URLS: '{url}' names no host (use 127.0.0.1, localhost, or * for every interface).";
            }

            if (portStart >= 0 && !(int.TryParse(authority[(portStart + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535))
            {
                return $"--urls / ASPNETCORE_URLS: '{url}' has a port that is not a number from 0 to 65535.";
            }
        }

        return null;
    }
}
