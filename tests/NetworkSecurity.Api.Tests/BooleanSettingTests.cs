using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Every boolean setting takes true/false, 1/0, yes/no or on/off, in any case: S3_FORCE_PATH_STYLE and
/// S3_DISABLE_CHUNKED_ENCODING took all of them, while Tracking__Enabled=0, Api__TrainOnStartup=no and PushData__Drop=yes
/// were refused at start as "not true or false".
/// </summary>
public sealed class BooleanSettingTests
{
    [Theory]
    [InlineData("Tracking__Enabled", "0")]
    [InlineData("Tracking__Enabled", "Off")]
    [InlineData("Api__TrainOnStartup", "no")]
    [InlineData("Api__TrainOnStartup", "1")]
    [InlineData("PushData__Drop", "yes")]
    [InlineData("S3_FORCE_PATH_STYLE", "on")]
    public void A_boolean_setting_takes_the_words_every_boolean_setting_takes(string variable, string value)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, "export", "--final-model", Path.Combine(dir.Path, "final_model"));

        // Past the settings' checks: export fails only for want of a model.
        Assert.True(code == 1, $"{variable}={value}: exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr + stdout);
    }

    [Theory]
    [InlineData("Tracking__Enabled", "Tracking:Enabled")]
    [InlineData("Api__TrainOnStartup", "Api:TrainOnStartup")]
    [InlineData("PushData__Drop", "PushData:Drop")]
    [InlineData("S3_DISABLE_CHUNKED_ENCODING", "S3_DISABLE_CHUNKED_ENCODING")]
    public void A_boolean_setting_refuses_another_word_naming_every_word_it_takes(string variable, string key)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = "maybe" }, "export", "--final-model", Path.Combine(dir.Path, "final_model"));

        Assert.True(code == 2, $"{variable}: exit {code}: {stderr}{stdout}");
        Assert.Contains($"{key} 'maybe' is not true or false (1/0, yes/no, on/off).", stderr);
    }

    [Fact]
    public async Task The_service_reads_Api_TrainOnStartup_no_as_off()
    {
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"),
            new Dictionary<string, string?> { ["Api:TrainOnStartup"] = "no", ["Tracking:Enabled"] = "OFF" });
        var client = factory.CreateClient();

        Assert.Contains("does not train one by itself (Api:TrainOnStartup is off)", await client.GetStringAsync("/"));
    }
}
