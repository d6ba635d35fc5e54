using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The service took any ArgumentException (or FormatException, NotSupportedException …) escaping the running host for
/// a bad setting: "invalid configuration", exit code 2, for a hosted service's bug or a failure while stopping.
/// </summary>
public sealed class ServiceStartFailureTests
{
    [Fact]
    public void Once_the_host_runs_only_a_settings_error_is_reported_as_one()
    {
        // While the settings are read, a library's refusal of a value is the setting's fault.
        Assert.True(ServiceHost.IsSettingsError(new ArgumentException("bad value"), running: false, out var reason));
        Assert.Equal("bad value", reason);

        // Once the host runs: a hosted service's ArgumentException (also wrapped, as the host's stop wraps them) is not.
        Assert.False(ServiceHost.IsSettingsError(new ArgumentException("index out of range"), running: true, out _));
        Assert.False(ServiceHost.IsSettingsError(new AggregateException("One or more hosted services failed to stop.", new FormatException("x")), running: true, out _));
        Assert.False(ServiceHost.IsSettingsError(new NotSupportedException("x"), running: true, out _));

        // Configuration's own errors and a SettingException still are.
        Assert.True(ServiceHost.IsSettingsError(new SettingException("Grid file 'g.yaml': no entry"), running: true, out reason));
        Assert.Equal("Grid file 'g.yaml': no entry", reason);
        Assert.True(ServiceHost.IsSettingsError(new InvalidOperationException("Failed to convert configuration value 'x' at 'Kestrel:Limits:MaxRequestBodySize'"), running: true, out _));
    }

    [Fact]
    public void A_unix_socket_path_too_long_is_refused_before_the_host_runs_in_one_line_naming_its_source()
    {
        // Kestrel refused it once the host ran: "invalid configuration" only because any ArgumentException was taken
        // for one, on two lines ("Actual value was …"), not naming where the address came from.
        using var dir = new TempDirectory();
        var socket = "/tmp/" + new string('s', 150) + ".sock";
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["ASPNETCORE_URLS"] = "http://unix:" + socket }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"error: invalid configuration: --urls / ASPNETCORE_URLS: 'http://unix:{socket}' names a Unix socket path of 160 bytes, longer than a Unix socket path may be on this system: use a shorter one. (urls from environment variable ASPNETCORE_URLS)", stderr.Trim());
    }

    [Fact]
    public void An_endpoint_url_with_a_space_before_it_is_refused_before_the_host_runs()
    {
        // The check trimmed it and let it through; Kestrel then refused it once the host ran: "the service stopped:
        // InvalidOperationException: Unrecognized scheme in server address ' http://…'", exit 1.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Kestrel__Endpoints__Api__Url"] = " http://127.0.0.1:0" }, []);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith("error: invalid configuration: Kestrel:Endpoints:Api:Url: ' http://127.0.0.1:0' is not an http:// or https:// address to listen on.", stderr);
    }

    [Theory]
    [InlineData("ASPNETCORE_CONTENTROOT", "/nope-not-a-folder")]
    [InlineData("DOTNET_CONTENTROOT", "/etc/hostname")]
    public void A_content_root_that_is_not_a_folder_is_a_settings_error_naming_the_setting(string variable, string folder)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = folder }, "--urls", "http://127.0.0.1:0");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"error: invalid configuration: the content root (--contentRoot, ASPNETCORE_CONTENTROOT) is not a folder: {folder}/", stderr.Trim());
    }
}
