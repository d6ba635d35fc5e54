using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The Kestrel section is checked at start: Kestrel took a value it could not parse for unset (Protocols 'Bogus'),
/// never read its limits from settings (Limits:MaxRequestBodySize '-5' was accepted and changed nothing), and refused
/// HTTPS settings on an http endpoint, or an https address without a certificate, only once the host ran: exit code 1
/// with Kestrel's own message, naming no setting.
/// </summary>
public sealed class KestrelSettingTests
{
    [Theory]
    [InlineData("Kestrel__Endpoints__Web__Protocols", "Bogus", "Kestrel:Endpoints:Web:Protocols 'Bogus' is not one of Http1, Http2, Http1AndHttp2, Http3, Http1AndHttp2AndHttp3.")]
    [InlineData("Kestrel__EndpointDefaults__Protocols", "Http9", "Kestrel:EndpointDefaults:Protocols 'Http9' is not one of Http1")]
    [InlineData("Kestrel__Limits__MaxRequestBodySize", "-5", "unknown setting 'Kestrel:Limits:MaxRequestBodySize': the service reads only Endpoints")]
    [InlineData("Kestrel__AddServerHeader", "true", "unknown setting 'Kestrel:AddServerHeader': the service reads only Endpoints")]
    [InlineData("Kestrel__Certificates__Default__AllowInvalid", "maybe", "Kestrel:Certificates:Default:AllowInvalid 'maybe' is not true or false.")]
    [InlineData("Kestrel__Certificates__Default__Pth", "/certs/site.pfx", "unknown setting 'Kestrel:Certificates:Default:Pth': a certificate has Path, KeyPath, Password")]
    [InlineData("Kestrel__Certificates__Default__Path", "missing.pfx", "Kestrel:Certificates:Default:Path 'missing.pfx' names no file (relative to the content root")]
    [InlineData("Kestrel__EndpointDefaults__SslProtocols", "Tls13", "Kestrel:EndpointDefaults:SslProtocols 'Tls13' is one value, and Kestrel reads a list")]
    [InlineData("Kestrel__EndpointDefaults__SslProtocols__0", "Tls99", "Kestrel:EndpointDefaults:SslProtocols:0 'Tls99' is not one of")]
    [InlineData("Kestrel__EndpointDefaults__ClientCertificateMode", "Always", "Kestrel:EndpointDefaults:ClientCertificateMode 'Always' is not one of NoCertificate")]
    public void A_kestrel_setting_it_cannot_use_stops_the_service_at_start_naming_it_and_its_source(string variable, string value, string expected)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value, ["Kestrel__Endpoints__Web__Url"] = "http://127.0.0.1:0" }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: invalid configuration: {expected}", stderr);
        Assert.EndsWith($"from environment variable {variable})", stderr.Trim());
    }

    [Theory]
    [InlineData("Kestrel__Endpoints__Web__Certificate__Path", "Kestrel:Endpoints:Web:Certificate:Path")]
    [InlineData("Kestrel__Endpoints__Web__SslProtocols__0", "Kestrel:Endpoints:Web:SslProtocols:0")]
    [InlineData("Kestrel__Endpoints__Web__ClientCertificateMode", "Kestrel:Endpoints:Web:ClientCertificateMode")]
    public void An_https_setting_on_an_http_endpoint_is_a_settings_error_naming_it(string variable, string key)
    {
        using var dir = new TempDirectory();
        var certificate = dir.File("site.pem", "not read before the check");
        var value = variable.EndsWith("Path", StringComparison.Ordinal) ? certificate : variable.EndsWith("Mode", StringComparison.Ordinal) ? "RequireCertificate" : "Tls13";
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value, ["Kestrel__Endpoints__Web__Url"] = "http://127.0.0.1:0" }, []);

        // Was: exit 1, "the service stopped: InvalidOperationException: The non-HTTPS endpoint Web includes HTTPS-only configuration for …".
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: invalid configuration: {key} is a setting of HTTPS, and endpoint 'Web' listens on http ('http://127.0.0.1:0'): give it an https:// Url, or remove the setting. ({key} = '{value}' from environment variable {variable})", stderr);
    }

    [Theory]
    [InlineData("ASPNETCORE_URLS", "https://127.0.0.1:0", "--urls / ASPNETCORE_URLS: 'https://127.0.0.1:0' is an HTTPS address, and no certificate is set for it", "urls")]
    [InlineData("Kestrel__Endpoints__Tls__Url", "https://127.0.0.1:0", "Kestrel:Endpoints:Tls:Url: 'https://127.0.0.1:0' is an HTTPS address, and no certificate is set for it", "Kestrel:Endpoints:Tls:Url")]
    [InlineData("ASPNETCORE_HTTPS_PORTS", "0", "ASPNETCORE_HTTPS_PORTS (--https_ports): '0' are HTTPS ports, and no certificate is set for them", "https_ports")]
    public void An_https_address_without_a_certificate_is_a_settings_error_saying_what_to_set(string variable, string value, string expected, string key)
    {
        // HOME is the scratch folder: no developer certificate there (one in the user's store would serve, as Kestrel takes it).
        // ASPNETCORE_HTTPS_PORTS alone was overridden by the default address: the service served http on port 8080.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value, ["HOME"] = dir.Path }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: invalid configuration: {expected}: ", stderr);
        Assert.Contains("set a certificate as Kestrel:Certificates:Default:Path", stderr);
        Assert.Contains($"({key}", stderr);
        Assert.Contains($"from environment variable {variable})", stderr);
    }

    [Theory]
    [InlineData("Kestrel__Endpoints__Web__Protocols", "Http3", "Kestrel:Endpoints:Web:Protocols")]
    [InlineData("Kestrel__EndpointDefaults__Protocols", "http3", "Kestrel:EndpointDefaults:Protocols")]
    public void Http3_alone_on_an_http_address_is_a_settings_error(string variable, string value, string key)
    {
        // Was: exit 1 once the host ran, "the service stopped: InvalidOperationException: HTTP/3 requires HTTPS."
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value, ["Kestrel__Endpoints__Web__Url"] = "http://127.0.0.1:0" }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: invalid configuration: {key} '{value}' on the http address 'http://127.0.0.1:0': HTTP/3 needs HTTPS. Give Http1AndHttp2AndHttp3", stderr);
        Assert.EndsWith($"from environment variable {variable})", stderr.Trim());

        // Offered with the others, HTTP/3 is used where it can be: that starts.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:EndpointDefaults:Protocols"] = "Http3", ["Kestrel:Endpoints:Web:Url"] = "http://127.0.0.1:0", ["Kestrel:Endpoints:Web:Protocols"] = "Http1AndHttp2AndHttp3",
        }).Build();
        Assert.Null(KestrelSettings.Http3Problem(configuration));
    }

    [Fact]
    public void What_kestrel_reads_as_written_is_let_through()
    {
        using var dir = new TempDirectory();
        var certificate = dir.File("site.pem", "a certificate");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "https://127.0.0.1:0",
            ["Kestrel:Certificates:Default:Path"] = "site.pem", // relative to the content root, as Kestrel reads it
            ["Kestrel:Certificates:Default:KeyPath"] = certificate,
            ["Kestrel:Certificates:Default:Password"] = "secret",
            ["Kestrel:EndpointDefaults:Protocols"] = "http1andhttp2",
            ["Kestrel:EndpointDefaults:SslProtocols:0"] = "Tls12",
            ["Kestrel:EndpointDefaults:SslProtocols:1"] = "Tls13",
            ["Kestrel:EndpointDefaults:ClientCertificateMode"] = "AllowCertificate",
            ["Kestrel:Endpoints:Web:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:Web:Protocols"] = "Http1, Http2",
            ["Kestrel:Endpoints:Web:Sni:example.com:Certificate:Subject"] = "example.com",
            ["Kestrel:Endpoints:Web:Sni:example.com:Certificate:Store"] = "My",
            ["Kestrel:Endpoints:Web:Sni:example.com:Certificate:Location"] = "CurrentUser",
            ["Kestrel:Endpoints:Plain:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Plain:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Plain:ClientCertificateMode"] = "", // empty: unset, as Kestrel takes it
            ["Kestrel:Limits:MaxRequestBodySize"] = "",
        }).Build();

        Assert.Null(KestrelSettings.Problem(configuration, dir.Path));
        Assert.Null(KestrelSettings.HttpsProblem(configuration));

        // Every Sni entry with its certificate serves without a default one; an entry without one needs it.
        var sni = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Web:Url"] = "https://127.0.0.1:0", ["Kestrel:Endpoints:Web:Sni:a.example:Certificate:Path"] = certificate,
        };
        Assert.Null(KestrelSettings.HttpsProblem(new ConfigurationBuilder().AddInMemoryCollection(sni).Build(), developmentCertificate: false));
        sni["Kestrel:Endpoints:Web:Sni:b.example:Protocols"] = "Http1";
        Assert.StartsWith("Kestrel:Endpoints:Web:Url: 'https://127.0.0.1:0' is an HTTPS address, and no certificate is set for it",
            KestrelSettings.HttpsProblem(new ConfigurationBuilder().AddInMemoryCollection(sni).Build(), developmentCertificate: false)?.Message);
        Assert.Null(KestrelSettings.HttpsProblem(new ConfigurationBuilder().AddInMemoryCollection(sni).Build(), developmentCertificate: true));
    }

    [Theory]
    [InlineData("wrong", false, "cannot be read as a certificate with its Password: The certificate data cannot be read with the provided password")]
    [InlineData("", true, "is a certificate without its private key: give the key's file as KeyPath beside it (PEM), or a .pfx that holds both.")]
    public void A_certificate_that_cannot_serve_https_is_a_settings_error_naming_it(string password, bool withoutKey, string expected)
    {
        // Was: exit 1 once the host ran, "the service stopped: CryptographicException: The certificate data cannot be read
        // with the provided password …" or "NotSupportedException: The server mode SSL must use a certificate with the
        // associated private key", naming neither the setting nor the file.
        using var dir = new TempDirectory();
        var (pfx, pem) = Certificates(dir);
        var path = withoutKey ? pem : pfx;
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new()
        {
            ["Kestrel__Certificates__Default__Path"] = path, ["Kestrel__Certificates__Default__Password"] = password, ["ASPNETCORE_URLS"] = "https://127.0.0.1:0",
        }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: invalid configuration: Kestrel:Certificates:Default:Path '{path}' {expected}", stderr);
        Assert.EndsWith("from environment variable Kestrel__Certificates__Default__Path)", stderr.Trim());
        Assert.DoesNotContain("right-password", stderr);
    }

    [Fact]
    public void A_certificate_subject_not_in_its_store_is_a_settings_error_naming_it()
    {
        // Was: exit 1 once the host ran, "InvalidOperationException: The requested certificate … could not be found in CurrentUser/My".
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new()
        {
            ["Kestrel__Certificates__Default__Subject"] = "nowhere.networksecurity.test", ["ASPNETCORE_URLS"] = "https://127.0.0.1:0", ["HOME"] = dir.Path,
        }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal("error: invalid configuration: Kestrel:Certificates:Default:Subject 'nowhere.networksecurity.test' names no certificate in the CurrentUser/My store: add it there, or give a certificate file as Kestrel:Certificates:Default:Path. (Kestrel:Certificates:Default:Subject = 'nowhere.networksecurity.test' from environment variable Kestrel__Certificates__Default__Subject)", stderr.Trim());
    }

    [Fact]
    public void A_certificate_kestrel_can_serve_is_let_through()
    {
        using var dir = new TempDirectory();
        var (pfx, _) = Certificates(dir);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Certificates:Default:Path"] = Path.GetFileName(pfx), // relative to the content root
            ["Kestrel:Certificates:Default:Password"] = "right-password",
        }).Build();

        Assert.Null(KestrelSettings.CertificateProblem(configuration, dir.Path));
        Assert.Contains("with its Password", KestrelSettings.CertificateProblem(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Web:Sni:example.com:Certificate:Path"] = pfx, ["Kestrel:Endpoints:Web:Sni:example.com:Certificate:Password"] = "wrong",
        }).Build(), dir.Path)?.Message);
    }

    // A self-signed certificate for localhost: as a .pfx with its key (password "right-password"), and as PEM without it.
    private static (string Pfx, string Pem) Certificates(TempDirectory dir)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(dir.Path, "site.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, "right-password"));
        return (pfx, dir.File("site.pem", certificate.ExportCertificatePem()));
    }
}
