using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Start-up check of the Kestrel section (appsettings.json, Kestrel__… variables, options). Kestrel reads only its
/// endpoints, their defaults and certificates from settings, and takes a value it cannot parse for unset: Protocols
/// 'Bogus' served the default protocols, Limits:MaxRequestBodySize '-5' or 'abc' was never read at all, and both started
/// without a word.
/// </summary>
internal static class KestrelSettings
{
    private const string Section = "Kestrel";

    // What Kestrel reads of a certificate (a file, or a store's certificate by subject).
    private static readonly string[] CertificateKeys = ["Path", "KeyPath", "Password", "Subject", "Store", "Location", "AllowInvalid"];

    // What Kestrel reads of an endpoint (and, but Url, of EndpointDefaults and of an endpoint's Sni entries).
    private static readonly string[] EndpointKeys = ["Url", "Protocols", "SslProtocols", "ClientCertificateMode", "Certificate", "Sni"];

    /// <summary>What is wrong with a setting of the Kestrel section, or null. Empty is unset, as Kestrel takes it.</summary>
    /// <param name="contentRoot">
    /// The folder Kestrel reads a relative certificate path from; null: certificate files are not looked for (the
    /// commands, which share the service's settings but not always its machine: compose's push-data container has no
    /// certificate mounted).
    /// </param>
    public static SettingProblem? Problem(IConfiguration configuration, string? contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var (key, value) in Values(configuration.GetSection(Section)))
        {
            var parts = key.Split(':');
            if (Unread(parts) is { } unread)
            {
                return new(key, $"unknown setting '{key}': {unread}");
            }

            if (ValueProblem(parts, value, contentRoot) is { } problem)
            {
                return new(key, $"{key} '{value}' {problem}");
            }
        }

        return null;
    }

    // The keys of a section that have a value, in a stable order.
    private static IEnumerable<(string Key, string Value)> Values(IConfigurationSection section) =>
        section.AsEnumerable().Where(e => !string.IsNullOrEmpty(e.Value)).OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase).Select(e => (e.Key, e.Value!));

    // What only an HTTPS endpoint may have: Kestrel refused them on an http one once the host ran, with exit code 1.
    private static readonly string[] HttpsOnlyKeys = ["Certificate", "SslProtocols", "ClientCertificateMode", "Sni"];

    private const string CertificateHelp = "set a certificate as Kestrel:Certificates:Default:Path (a .pfx, with Kestrel:Certificates:Default:Password; or a PEM file, with Kestrel:Certificates:Default:KeyPath), e.g. Kestrel__Certificates__Default__Path=/certs/site.pfx, or listen on http:// behind a proxy that ends TLS.";

    /// <summary>
    /// What is wrong with the HTTPS settings, or null: settings of HTTPS on an http endpoint, and an https address
    /// (--urls, ASPNETCORE_HTTPS_PORTS, an endpoint's Url) without a certificate for it. Kestrel refused both once the
    /// host ran ("the service stopped: InvalidOperationException: Unable to configure HTTPS endpoint. No server
    /// certificate was specified …", exit code 1), after the training worker had started.
    /// </summary>
    /// <param name="developmentCertificate">Whether the developer certificate is there; null: look in the user's store.</param>
    public static SettingProblem? HttpsProblem(IConfiguration configuration, bool? developmentCertificate = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var endpoints = configuration.GetSection($"{Section}:Endpoints").GetChildren().ToArray();
        foreach (var endpoint in endpoints)
        {
            var url = endpoint["Url"]?.Trim() ?? "";
            if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
                && HttpsOnlyKeys.SelectMany(k => Values(endpoint.GetSection(k))).Select(e => e.Key).FirstOrDefault() is { } httpsOnly)
            {
                return new(httpsOnly, $"{httpsOnly} is a setting of HTTPS, and endpoint '{endpoint.Key}' listens on http ('{Pipeline.Configuration.UrlCredentials.Redact(url)}'): give it an https:// Url, or remove the setting.");
            }
        }

        // Only asked once an https address lacks a certificate of its own: on plain http, start-up opened the user's
        // certificate store for nothing.
        bool HasDefaultCertificate() =>
            HasCertificate(configuration.GetSection($"{Section}:Certificates:Default")) || (developmentCertificate ?? HasDevelopmentCertificate());

        if (endpoints.Length > 0)
        {
            // The endpoints replace --urls and the ports (Kestrel says so at start); each https one needs its certificate.
            return endpoints.FirstOrDefault(e => (e["Url"]?.Trim() ?? "").StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                    && !HasCertificate(e.GetSection("Certificate")) && !AllSniHaveCertificates(e)) is { } bare && !HasDefaultCertificate()
                ? new($"{Section}:Endpoints:{bare.Key}:Url", $"{Section}:Endpoints:{bare.Key}:Url: '{Pipeline.Configuration.UrlCredentials.Redact(bare["Url"]!)}' is an HTTPS address, and no certificate is set for it: give the endpoint one ({Section}:Endpoints:{bare.Key}:Certificate:Path), or {CertificateHelp}")
                : null;
        }

        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return urls.Split(';', StringSplitOptions.TrimEntries).FirstOrDefault(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) is { } https && !HasDefaultCertificate()
                ? new(WebHostDefaults.ServerUrlsKey, $"--urls / ASPNETCORE_URLS: '{Pipeline.Configuration.UrlCredentials.Redact(https)}' is an HTTPS address, and no certificate is set for it: {CertificateHelp}")
                : null;
        }

        return configuration[WebHostDefaults.HttpsPortsKey] is { } ports && !string.IsNullOrWhiteSpace(ports) && !HasDefaultCertificate()
            ? new(WebHostDefaults.HttpsPortsKey, $"ASPNETCORE_HTTPS_PORTS (--https_ports): '{ports}' are HTTPS ports, and no certificate is set for them: {CertificateHelp}")
            : null;
    }

    /// <summary>
    /// What is wrong with a certificate file set under Kestrel, or null: one that cannot be read (a wrong Password, a
    /// file that is not a certificate) or has no private key stopped the service once the host ran, "the service stopped:
    /// CryptographicException: …" with exit code 1, naming neither the setting nor the file. Read as Kestrel reads it:
    /// with KeyPath, a PEM certificate and its key; without, a .pfx (PKCS #12) or a certificate alone.
    /// </summary>
    public static SettingProblem? CertificateProblem(IConfiguration configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var kestrel = configuration.GetSection(Section);
        var certificates = kestrel.GetSection("Certificates").GetChildren()
            .Concat(kestrel.GetSection("Endpoints").GetChildren().SelectMany(e => e.GetSection("Sni").GetChildren().Prepend(e)).Select(e => e.GetSection("Certificate")));
        foreach (var certificate in certificates.Where(c => string.IsNullOrEmpty(c["Path"]) && !string.IsNullOrEmpty(c["Subject"])))
        {
            if (StoreProblem(certificate) is { } missing)
            {
                return new($"{certificate.Path}:Subject", missing);
            }
        }

        foreach (var certificate in certificates.Where(c => !string.IsNullOrEmpty(c["Path"])))
        {
            var key = $"{certificate.Path}:Path";
            if (Unreadable(Path.Combine(contentRoot, certificate["Path"]!), certificate["KeyPath"] is { Length: > 0 } keyPath ? Path.Combine(contentRoot, keyPath) : null, certificate["Password"]) is { } why)
            {
                return new(key, $"{key} '{certificate["Path"]}' {why}");
            }
        }

        return null;
    }

    // Why no certificate of Subject is in its store (My of CurrentUser unless Store and Location say otherwise), or null:
    // Kestrel said "The requested certificate … could not be found" once the host ran, with exit code 1.
    private static string? StoreProblem(IConfigurationSection certificate)
    {
        var subject = certificate["Subject"]!;
        var storeName = certificate["Store"] is { Length: > 0 } name ? name : nameof(StoreName.My);
        var location = Enum.TryParse<StoreLocation>(certificate["Location"], ignoreCase: true, out var parsed) ? parsed : StoreLocation.CurrentUser;
        try
        {
            using var store = new X509Store(storeName, location);
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            var found = store.Certificates.Find(X509FindType.FindBySubjectName, subject, validOnly: false);
            var any = found.Count > 0;
            foreach (var each in found)
            {
                each.Dispose();
            }

            if (any)
            {
                return null;
            }
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // No such store here (on Linux, LocalMachine has only Root and CertificateAuthority): nothing found in it.
        }

        return $"{certificate.Path}:Subject '{subject}' names no certificate in the {location}/{storeName} store: add it there, or give a certificate file as {certificate.Path}:Path.";
    }

    // Why a certificate file cannot serve HTTPS, or null.
    private static string? Unreadable(string path, string? keyPath, string? password)
    {
        try
        {
            using var certificate = keyPath is not null
                ? string.IsNullOrEmpty(password) ? X509Certificate2.CreateFromPemFile(path, keyPath) : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
                : X509Certificate2.GetCertContentType(path) == X509ContentType.Pkcs12 ? X509CertificateLoader.LoadPkcs12FromFile(path, password)
                : X509CertificateLoader.LoadCertificateFromFile(path);
            return certificate.HasPrivateKey ? null
                : "is a certificate without its private key: give the key's file as KeyPath beside it (PEM), or a .pfx that holds both.";
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return $"cannot be read as a certificate{(keyPath is null ? "" : " and its KeyPath as its key")}{(string.IsNullOrEmpty(password) ? "" : " with its Password")}: {ex.Message.TrimEnd('.')}.";
        }
    }

    /// <summary>
    /// What is wrong with Protocols set to HTTP/3 alone, or null: on an http address ("HTTP/3 requires HTTPS"), or where
    /// QUIC is missing (libmsquic), Kestrel could bind nothing and stopped the service once the host ran, exit code 1.
    /// An endpoint's own Protocols wins over EndpointDefaults', which also applies to --urls and the ports.
    /// </summary>
    public static SettingProblem? Http3Problem(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        const string DefaultsKey = $"{Section}:EndpointDefaults:Protocols";
        var endpoints = configuration.GetSection($"{Section}:Endpoints").GetChildren().Select(e => (Url: e["Url"] ?? "", Key: $"{e.Path}:Protocols", Protocols: e["Protocols"]))
            .Select(e => string.IsNullOrEmpty(e.Protocols) ? (e.Url, Key: DefaultsKey, Protocols: configuration[DefaultsKey]) : e).ToList();
        if (endpoints.Count == 0)
        {
            var urls = configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } listen ? listen.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : (configuration[WebHostDefaults.HttpPortsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(_ => "http://").Concat((configuration[WebHostDefaults.HttpsPortsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(_ => "https://"))
                    .DefaultIfEmpty(WebApplicationExtensions.DefaultUrl);
            endpoints.AddRange(urls.Select(url => (url, DefaultsKey, configuration[DefaultsKey])));
        }

        foreach (var (url, key, protocols) in endpoints)
        {
            if (!Enum.TryParse<HttpProtocols>(protocols, ignoreCase: true, out var parsed) || parsed != HttpProtocols.Http3)
            {
                continue;
            }

            if (!url.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return new(key, $"{key} '{protocols}' on the http address '{Pipeline.Configuration.UrlCredentials.Redact(url)}': HTTP/3 needs HTTPS. Give Http1AndHttp2AndHttp3 (HTTP/3 where TLS allows it), or an https:// address.");
            }

            if (!QuicSupported())
            {
                return new(key, $"{key} '{protocols}': HTTP/3 needs QUIC (libmsquic), which this machine does not have. Give Http1AndHttp2AndHttp3 (HTTP/3 where QUIC is there), or install libmsquic.");
            }
        }

        return null;
    }

    private static bool QuicSupported() =>
        (OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) && System.Net.Quic.QuicListener.IsSupported;

    // Whether an endpoint's Sni entries (at least one) each have a certificate: an entry without one falls back on the
    // endpoint's or the default certificate, and Kestrel stopped without one.
    private static bool AllSniHaveCertificates(IConfigurationSection endpoint) =>
        endpoint.GetSection("Sni").GetChildren().ToArray() is { Length: > 0 } entries && entries.All(entry => HasCertificate(entry.GetSection("Certificate")));

    // A certificate from a file or from a store by its subject.
    private static bool HasCertificate(IConfigurationSection certificate) =>
        !string.IsNullOrEmpty(certificate["Path"]) || !string.IsNullOrEmpty(certificate["Subject"]);

    // ASP.NET Core's developer certificate (dotnet dev-certs https), which Kestrel uses when no other is set.
    private static bool HasDevelopmentCertificate()
    {
        const string DevelopmentCertificateOid = "1.3.6.1.4.1.311.84.1.1";
        try
        {
            using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            var now = DateTime.Now;
            var found = false;
            foreach (var certificate in store.Certificates)
            {
                found |= certificate.Extensions[DevelopmentCertificateOid] is not null && certificate.NotBefore <= now && now <= certificate.NotAfter && certificate.HasPrivateKey;
                certificate.Dispose();
            }

            return found;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false; // no store (never made on this machine): no developer certificate either
        }
    }

    // Why Kestrel does not read the key of these parts (Kestrel, Endpoints, Api, Url), or null.
    private static string? Unread(string[] parts)
    {
        const string Reads = "the service reads only Endpoints (Url, Protocols, SslProtocols, ClientCertificateMode, Certificate, Sni), EndpointDefaults (Protocols, SslProtocols, ClientCertificateMode) and Certificates of the Kestrel section; Kestrel's limits and switches are not read from settings (the upload limits are Api:MaxUploadBytes and Api:MaxJsonBytes).";
        var rest = parts.Length > 1 ? parts[1] : "";
        return rest.ToUpperInvariant() switch
        {
            "ENDPOINTS" when parts.Length >= 4 => EndpointKeyProblem(parts[3..], EndpointKeys),
            "ENDPOINTDEFAULTS" when parts.Length >= 3 => EndpointKeyProblem(parts[2..], ["Protocols", "SslProtocols", "ClientCertificateMode"]),
            "CERTIFICATES" when parts.Length == 4 => Is(parts[3], CertificateKeys) ? null : $"a certificate has {string.Join(", ", CertificateKeys)}.",
            _ => Reads,
        };
    }

    // The parts after an endpoint's name (Url; Certificate, Path; SslProtocols, 0; Sni, host, Protocols).
    private static string? EndpointKeyProblem(string[] parts, string[] known)
    {
        if (!Is(parts[0], known))
        {
            return $"an endpoint has {string.Join(", ", known)}.";
        }

        return parts[0].ToUpperInvariant() switch
        {
            "CERTIFICATE" => parts.Length == 2 && Is(parts[1], CertificateKeys) ? null : $"a certificate has {string.Join(", ", CertificateKeys)}.",
            "SSLPROTOCOLS" => parts.Length == 1 || (parts.Length == 2 && int.TryParse(parts[1], out _)) ? null : "SslProtocols is a list of names (SslProtocols:0=Tls13).",
            "SNI" => parts.Length >= 3 ? EndpointKeyProblem(parts[2..], ["Protocols", "SslProtocols", "ClientCertificateMode", "Certificate"]) : "Sni has a section per host name (Sni:example.com:Certificate:Path).",
            _ => parts.Length == 1 ? null : $"{parts[0]} is a value, not a section.",
        };
    }

    // Why Kestrel cannot use the value of a key it reads, or null; empty is unset, as Kestrel takes it.
    private static string? ValueProblem(string[] parts, string value, string? contentRoot)
    {
        var name = parts[^1];
        var parent = parts[^2];
        if (Is(name, "Protocols"))
        {
            return Names<HttpProtocols>(value, exclude: "None");
        }

        if (Is(name, "ClientCertificateMode"))
        {
            return Names<ClientCertificateMode>(value, exclude: null);
        }

        if (Is(parent, "SslProtocols") || Is(name, "SslProtocols"))
        {
            return Is(name, "SslProtocols")
                ? "is one value, and Kestrel reads a list: give each protocol by its index (SslProtocols:0=Tls13, Kestrel__Endpoints__Https__SslProtocols__0=Tls13, or [\"Tls13\"] in a settings file)."
                : Names<SslProtocols>(value, exclude: null);
        }

        if (!Is(parent, "Certificate") && !(parts.Length == 4 && Is(parts[1], "Certificates")))
        {
            return null;
        }

        if (Is(name, "AllowInvalid"))
        {
            return bool.TryParse(value, out _) ? null : "is not true or false.";
        }

        if (Is(name, "Location"))
        {
            return Names<StoreLocation>(value, exclude: null);
        }

        return contentRoot is not null && (Is(name, "Path") || Is(name, "KeyPath")) && !File.Exists(Path.Combine(contentRoot, value))
            ? $"names no file{(Path.IsPathRooted(value) ? "" : $" (relative to the content root, {contentRoot})")}: give the certificate's{(Is(name, "KeyPath") ? " key" : "")} file."
            : null;
    }

    // A value of enum T (or, for flags, names joined by commas), by name in any case; numbers are not names. Obsolete
    // names (Tls11) are taken, as Kestrel takes them, but not offered.
    private static string? Names<T>(string value, string? exclude)
        where T : struct, Enum
    {
        var names = Enum.GetNames<T>().Where(n => n != exclude).ToArray();
        return value.Split(',', StringSplitOptions.TrimEntries).All(part => Is(part, names))
            ? null
            : $"is not one of {string.Join(", ", names.Where(n => !IsObsolete<T>(n)))}.";
    }

    private static bool IsObsolete<T>(string name) =>
        typeof(T).GetField(name)?.IsDefined(typeof(ObsoleteAttribute), inherit: false) == true;

    private static bool Is(string part, params string[] names) =>
        names.Any(n => n.Equals(part, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A setting the service cannot use: its key (to say where its value came from) and what is wrong.</summary>
internal sealed record SettingProblem(string Key, string Message);
