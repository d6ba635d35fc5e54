using Microsoft.Extensions.Configuration;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Serilog ignores a key of its section it does not know: Serilog__MinimumLevel__Defualt=Debug or
/// --Serilog:MinimumLvel:Default=Debug was taken without a word and the level stayed Information.
/// </summary>
public sealed class SerilogKeyTests
{
    [Theory]
    [InlineData("Serilog__MinimumLevel__Defualt", "unknown setting 'Serilog:MinimumLevel:Defualt': Serilog:MinimumLevel has Default, Override, ControlledBy", "export")]
    [InlineData("Serilog__MinimumLvel__Default", "unknown setting 'Serilog:MinimumLvel:Default': did you mean 'Serilog:MinimumLevel'?", "--urls", "http://127.0.0.1:0")]
    public void A_misspelt_serilog_variable_is_a_usage_error(string variable, string reason, params string[] arguments)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = "Debug" }, arguments);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: environment variable {variable}: {reason}", stderr);
    }

    [Fact]
    public void Serilog_keys_it_reads_and_free_names_below_them_are_accepted()
    {
        foreach (var token in new[]
        {
            "--Serilog:MinimumLevel=Debug", "--Serilog:MinimumLevel:Default=Debug", "--serilog:minimumlevel:override:My.Category-Name=Warning",
            "--Serilog:MinimumLevel:ControlledBy=$app", "--Serilog:LevelSwitches:$app=Information", "--Serilog:Using:0=Serilog.Sinks.Console",
            "--Serilog:WriteTo:0:Name=Console", "--Serilog:WriteTo:0:Args:outputTemplate=x", "--Serilog:Enrich:0=FromLogContext",
            "--Serilog:Properties:Application=ns", "--Serilog:Filter:0:Name=ByExcluding", "--Serilog:Destructure:0:Name=ToMaximumDepth",
            "--Serilog:AuditTo:0:Name=Console", "--Serilog:FilterSwitches:$f=x", "--Serilog=",
        })
        {
            Assert.Null(SettingNames.Problem(token));
        }

        Assert.Contains("did you mean 'Serilog:WriteTo'?", SettingNames.Problem("--Serilog:WritTo:0:Name=Console"));
    }

    [Fact]
    public void An_override_may_name_a_level_switch_declared_without_its_dollar()
    {
        // Serilog's README declares "LevelSwitches": {"controlSwitch": "Verbose"} and names it "$controlSwitch" in an
        // override; Serilog reads it so (as it does for ControlledBy), but the start-up check refused it as not a level.
        static IConfiguration Settings(string declared, string named) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"Serilog:LevelSwitches:{declared}"] = "Warning",
            ["Serilog:MinimumLevel:Override:Microsoft"] = named,
        }).Build();

        Assert.Null(LoggingSetup.SettingsProblem(Settings("controlSwitch", "$controlSwitch")));
        Assert.Null(LoggingSetup.SettingsProblem(Settings("$controlSwitch", "$controlSwitch")));

        // A switch declared under another name is still refused, naming the key.
        Assert.Contains("Serilog:MinimumLevel:Override:Microsoft '$other' is not a level", LoggingSetup.SettingsProblem(Settings("controlSwitch", "$other")));
    }

    [Fact]
    public void An_empty_default_level_in_a_settings_file_is_refused_naming_the_key_and_where_it_was_set()
    {
        // "Default": "" (written on purpose in a file, or as --Serilog:MinimumLevel:Default=): Serilog refused it as "The
        // value  is not a valid Serilog level.", naming neither the key nor the file. An empty MinimumLevel or override is
        // unset, and so is an empty variable (Serilog__MinimumLevel__Default=, an env file's line left empty: EmptyVariableTests).
        using var dir = new TempDirectory();
        var file = dir.File("appsettings.json", """{"Serilog": {"MinimumLevel": {"Default": ""}}}""");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"error: invalid logging configuration: Serilog:MinimumLevel:Default is empty: give a level (Verbose, Debug, Information, Warning, Error, Fatal) or leave it out. (Serilog:MinimumLevel:Default = '' from settings file '{file}')", stderr.Trim());

        File.Delete(file);
        (code, stdout, stderr) = ProgramProcess.Run(dir, new() { ["Serilog__MinimumLevel"] = "", ["Serilog__MinimumLevel__Override__Microsoft"] = "" }, "export", "--output", Path.Combine(dir.Path, "m.onnx"));
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("no model has been promoted", stderr);
    }

    [Theory]
    [InlineData("Serilog__MinimumLevel__Override__Microsoft", "Serilog:MinimumLevel:Override:Microsoft")]
    [InlineData("Serilog__MinimumLevel", "Serilog:MinimumLevel")]
    public void A_blank_level_is_refused_naming_the_key_and_where_it_was_set(string variable, string key)
    {
        // Spaces are not the empty value Serilog takes for unset: it said "No LoggingLevelSwitch has been declared with
        // name " "" or "The value   is not a valid Serilog level.", naming neither the key nor the variable.
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = " " }, "export");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"error: invalid logging configuration: {key} is blank: give a level (Verbose, Debug, Information, Warning, Error, Fatal) or leave it out. ({key} = ' ' from environment variable {variable})", stderr.Trim());
    }
}
