using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The commands took any Kestrel key without a word (export --Kestrel:Limits:MaxRequestBodySize=5, or
/// Kestrel__Endpoints__Http__Protocols=Bogus in the environment they share with the service), where the service refuses
/// them at start. A Kestrel key given to a command as an option is a usage error, as --urls is: commands listen nowhere.
/// In the settings files and the environment, which the commands share with the service, a key Kestrel does not read or a
/// value it cannot use is refused as the service refuses it; what only the service's machine can tell (its certificate
/// files, its certificate store, QUIC) is left to the service.
/// </summary>
public sealed class CommandKestrelKeyTests
{
    [Theory]
    [InlineData("--Kestrel:Endpoints:Http:Url=http://127.0.0.1:1")]
    [InlineData("--Kestrel:Limits:MaxRequestBodySize=5")]
    [InlineData("--Kestrel__EndpointDefaults__Protocols=Http1")]
    public void A_kestrel_option_given_to_a_command_is_a_usage_error(string option)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export", option);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"error: '{option.Split('=')[0].Replace("__", ":", StringComparison.Ordinal)}' is a setting of the web service's server (Kestrel), which the commands do not run: leave it out.", stderr.Trim());
    }

    [Theory]
    [InlineData("Kestrel__Limits__MaxRequestBodySize", "5", "unknown setting 'Kestrel:Limits:MaxRequestBodySize': the service reads only Endpoints")]
    [InlineData("Kestrel__Endpoints__Http__Protocols", "Bogus", "Kestrel:Endpoints:Http:Protocols 'Bogus' is not one of")]
    [InlineData("Kestrel__Endpoints__Http__Url", "localhost:8080", "Kestrel:Endpoints:Http:Url")]
    // The host's prefix, which the service reads and the commands' configuration does not: they were let through.
    [InlineData("ASPNETCORE_Kestrel__Limits__MaxRequestBodySize", "5", "unknown setting 'Kestrel:Limits:MaxRequestBodySize': the service reads only Endpoints")]
    [InlineData("ASPNETCORE_Kestrel__Endpoints__Http__Protocols", "Bogus", "Kestrel:Endpoints:Http:Protocols 'Bogus' is not one of")]
    [InlineData("ASPNETCORE_Kestrel__Endpoints__Http__Url", "localhost:8080", "Kestrel:Endpoints:Http:Url")]
    public void A_kestrel_variable_the_service_refuses_is_refused_by_the_commands(string variable, string value, string message)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, "export", "--final-model", Path.Combine(dir.Path, "final_model"));

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(message, stderr);
        Assert.Contains($"from environment variable {variable})", stderr);
    }

    [Fact]
    public void A_settings_file_s_kestrel_key_is_checked_and_the_service_s_certificate_file_is_left_to_the_service()
    {
        using var dir = new TempDirectory();
        var file = dir.File("appsettings.json", """{"Kestrel": {"EndpointDefaults": {"Protocol": "Http1"}}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export", "--final-model", Path.Combine(dir.Path, "final_model"));
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("unknown setting 'Kestrel:EndpointDefaults:Protocol'", stderr);
        Assert.Contains(file, stderr);

        // A certificate mounted in the service's container only (compose's push-data shares its env file): not the
        // command's to open.
        var certificate = new Dictionary<string, string>
        {
            ["Kestrel__Endpoints__Https__Url"] = "https://0.0.0.0:8443",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = "/certs/not-here.pfx",
            ["Kestrel__Endpoints__Https__Certificate__Password"] = "x",
        };
        File.Delete(file);
        (code, stdout, stderr) = ProgramProcess.Run(dir, certificate, "export", "--final-model", Path.Combine(dir.Path, "final_model"));
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr);
    }
}
