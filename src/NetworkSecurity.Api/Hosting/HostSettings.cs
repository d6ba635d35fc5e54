using System.Globalization;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using NetworkSecurity.Pipeline.Configuration;

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
        // appsettings.{Environment}.json the same way, file by file, as the commands read them: the one beside the
        // program was never read by the service started elsewhere, though train read it.
        var sources = configuration.Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is JsonConfigurationSource { Path: { } path } json && IsSettingsFile(path)
                && SettingsFolder(contentRoot, programFolder, path) is var folder && NameOnDisk(folder, path) is var name
                && (folder != contentRoot || name != path) && File.Exists(Path.Combine(folder, name)))
            {
                sources[i] = new JsonConfigurationSource { Path = name, Optional = true, ReloadOnChange = json.ReloadOnChange, FileProvider = new PhysicalFileProvider(folder) };
            }
        }
    }

    private static bool IsSettingsFile(string path) =>
        path == SettingsFile || (path.StartsWith("appsettings.", StringComparison.Ordinal) && path.EndsWith(".json", StringComparison.Ordinal) && !path.Contains('/', StringComparison.Ordinal));

    /// <summary>
    /// The settings file of the host's environment, read after appsettings.json: appsettings.Production.json unless
    /// ASPNETCORE_ENVIRONMENT (or DOTNET_ENVIRONMENT) names another, as the web host reads it: with both set, the
    /// host's DOTNET_ENVIRONMENT wins (its variables are read after the ASPNETCORE_ ones), and the commands took the
    /// other, so train read appsettings.Staging.json where the service read appsettings.Development.json.
    /// </summary>
    public static string EnvironmentSettingsFile(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var name = new[] { variable("DOTNET_ENVIRONMENT"), variable("ASPNETCORE_ENVIRONMENT") }.FirstOrDefault(v => !string.IsNullOrEmpty(v)) ?? "Production";
        return $"appsettings.{name}.json";
    }

    /// <summary>
    /// The folder whose appsettings.json is read, by the service and the commands alike: the working folder when it has
    /// one, else the program's, so `train` run in the service's folder trains with the service's settings.
    /// </summary>
    public static string SettingsFolder(string workingFolder, string programFolder, string file = SettingsFile) =>
        File.Exists(Path.Combine(workingFolder, NameOnDisk(workingFolder, file))) ? workingFolder : programFolder;

    /// <summary>
    /// The name of settings file <paramref name="file"/> in <paramref name="folder"/> as it is spelt there: the host takes
    /// the environment's name in any case (ASPNETCORE_ENVIRONMENT=production is Production), but on Linux a file name
    /// is not, so appsettings.Production.json was skipped without a word where Windows read it. The name as given when
    /// it is there, or when no other spelling (or more than one) is.
    /// </summary>
    public static string NameOnDisk(string folder, string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (File.Exists(Path.Combine(folder, file)) || !Directory.Exists(folder))
        {
            return file;
        }

        var spellings = Directory.EnumerateFiles(folder, "appsettings.*", new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive })
            .Select(Path.GetFileName).Where(name => file.Equals(name, StringComparison.OrdinalIgnoreCase)).ToArray();
        return spellings is [{ } only] ? only : file;
    }

    /// <summary>
    /// What is wrong with the addresses to listen on (--urls, ASPNETCORE_URLS), or null. Kestrel takes any host it cannot
    /// read as an IP address (a port that is not a number, user info, a name, a relative Unix socket) for "every
    /// interface", often on port 80: only what it reads as written is let through: http(s)://host[:port][/], where the
    /// host is an IP address, localhost, * or + (every interface), or a Unix socket at an absolute path.
    /// </summary>
    public static string? ListenUrlProblem(string? urls)
    {
        if (urls is null)
        {
            return null;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (url.Trim().Length == 0)
            {
                continue;
            }

            if (ListenUrlProblemOf(url.TrimEnd()) is { } problem)
            {
                // A password in the user information (refused below) is masked: the error goes to logs.
                return $"--urls / ASPNETCORE_URLS: '{UrlCredentials.Redact(url)}' {problem}";
            }
        }

        return null;
    }

    /// <summary>
    /// What is wrong with the endpoints set under Kestrel:Endpoints (appsettings.json, the environment), or null: each
    /// needs a Url, read as --urls is. Kestrel refused them only once the host started, after a training run had begun,
    /// and the service ended "the service stopped: InvalidOperationException ..." with exit 1.
    /// </summary>
    public static string? EndpointProblem(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            var key = $"Kestrel:Endpoints:{endpoint.Key}:Url";
            var url = endpoint["Url"];
            if (string.IsNullOrWhiteSpace(url))
            {
                return $"{key} is not set: each endpoint under Kestrel:Endpoints needs a Url such as http://0.0.0.0:8080.";
            }

            // Kestrel reads a space after the address (the port's number allows it) but not before it: "Unrecognized scheme".
            if (ListenUrlProblemOf(url.TrimEnd()) is { } problem)
            {
                return $"{key}: '{UrlCredentials.Redact(url)}' {problem}";
            }
        }

        return null;
    }

    private static string? ListenUrlProblemOf(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? "" : url[..schemeEnd];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return "is not an http:// or https:// address to listen on.";
        }

        var rest = url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            var socket = rest["unix:".Length..];
            if (!(socket.Length > 1 && socket.StartsWith('/')))
            {
                return "names no Unix socket at an absolute path (http://unix:/run/app.sock).";
            }

            // Kestrel refused a longer one only once the host ran, in two lines ("Actual value was …").
            try
            {
                _ = new System.Net.Sockets.UnixDomainSocketEndPoint(socket);
                return null;
            }
            catch (ArgumentOutOfRangeException)
            {
                return $"names a Unix socket path of {System.Text.Encoding.UTF8.GetByteCount(socket)} bytes, longer than a Unix socket path may be on this system: use a shorter one.";
            }
        }

        var slash = rest.IndexOf('/');
        var (authority, path) = slash >= 0 ? (rest[..slash], rest[slash..]) : (rest, "");
        if (path.Length > 1)
        {
            return "has a path; the service listens at the root (put a path base in a proxy in front).";
        }

        if (authority.Contains('@', StringComparison.Ordinal))
        {
            return "has user information (user@host), which an address to listen on cannot have.";
        }

        string host;
        string? port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0)
            {
                return "has an IPv6 address without its closing ']'.";
            }

            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0 && after[0] != ':')
            {
                return "has something after its IPv6 address other than :port.";
            }

            port = after.Length > 0 ? after[1..] : null;
            if (!System.Net.IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return $"has '[{host}]', which is not an IPv6 address.";
            }
        }
        else
        {
            var colon = authority.IndexOf(':');
            if (colon >= 0 && authority.IndexOf(':', colon + 1) >= 0)
            {
                return "has more than one ':' (an IPv6 address goes in brackets: http://[::1]:8080).";
            }

            (host, port) = colon >= 0 ? (authority[..colon], authority[(colon + 1)..]) : (authority, null);
            if (host.Length == 0)
            {
                return "names no host (use 127.0.0.1, localhost, or * for every interface).";
            }

            var isIpv4 = host.Split('.').Length == 4 && System.Net.IPAddress.TryParse(host, out _);
            if (!isIpv4 && host is not ("*" or "+") && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                return $"has the host '{host}', which Kestrel would take for every interface: give an IP address, localhost, or * to mean every interface.";
            }
        }

        return port is not null && !(port.Length > 0 && int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 65535)
            ? "has a port that is not a number from 0 to 65535."
            : null;
    }

    /// <summary>
    /// What is wrong with ASPNETCORE_HTTP_PORTS / HTTPS_PORTS (ports on every interface, ';'-separated), or null: a value
    /// that is not a port made Kestrel listen on port 80.
    /// </summary>
    public static string? PortListProblem(string setting, string? ports)
    {
        if (ports is null)
        {
            return null;
        }

        foreach (var port in ports.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 65535))
            {
                return $"{setting}: '{port}' is not a port from 0 to 65535.";
            }
        }

        return null;
    }
}
