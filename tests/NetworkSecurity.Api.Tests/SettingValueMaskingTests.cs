using Microsoft.Extensions.Configuration;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// A setting's error shows the value in force unless it may hold a secret. "URI" anywhere in the key's last part hid
/// it (SECURITY), while a listen address with user:password@ was quoted whole in its own error.
/// </summary>
public sealed class SettingValueMaskingTests
{
    [Theory]
    [InlineData("Api:TrainApiKey")]
    [InlineData("NETWORKSECURITY_API_KEY")]
    [InlineData("AWS_SECRET_ACCESS_KEY")]
    [InlineData("AWS_SESSION_TOKEN")]
    [InlineData("MLFLOW_TRACKING_PASSWORD")]
    [InlineData("MLFLOW_TRACKING_URI")] // https://token@host: the token as the user
    [InlineData("MONGODB_URL")]
    [InlineData("S3_ENDPOINT_URL")]
    [InlineData("urls")]
    [InlineData("Kestrel:Endpoints:Http:Url")]
    [InlineData("Kestrel:Certificates:Default:Password")]
    [InlineData("Serilog:WriteTo:0:Args:serverUrl")]
    [InlineData("Serilog:WriteTo:0:Args:apiKey")]
    [InlineData("Serilog:WriteTo:0:Args:connectionString")]
    [InlineData("ConnectionStrings:Mongo")]
    [InlineData("MONGOPASSWORD")] // run together
    [InlineData("AWSSecretKey")]
    public void A_key_that_may_hold_a_credential_is_named_without_its_value(string key) =>
        Assert.True(SettingSources.IsSecret(key), key);

    [Theory]
    [InlineData("Kestrel:Limits:SecurityLevel")] // URI inside a word
    [InlineData("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Security")]
    [InlineData("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.DataProtection.KeyManagement")] // a level, whatever its category
    [InlineData("Pipeline:Seed")]
    [InlineData("Replication:ReplicaId")]
    [InlineData("Pipeline:Training:Learners")]
    public void A_key_that_holds_no_credential_shows_its_value(string key) =>
        Assert.False(SettingSources.IsSecret(key), key);

    [Fact]
    public void A_level_under_a_security_category_is_shown_in_the_error_naming_its_source()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Security", "Loud")]).Build();
        var message = SettingSources.Annotate("Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Security 'Loud' is not a level.", configuration);
        Assert.Contains("(Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Security = 'Loud' from ", message);
    }

    [Theory]
    [InlineData("urls")]
    [InlineData("Kestrel:Endpoints:Http:Url")]
    public void A_listen_address_with_a_password_is_refused_with_the_password_masked(string key)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new(), $"--{key}=http://ops:s3cret-pass@127.0.0.1:1");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("'http://ops:***@127.0.0.1:1' has user information", stderr);
        Assert.DoesNotContain("s3cret-pass", stderr + stdout);
    }
}
