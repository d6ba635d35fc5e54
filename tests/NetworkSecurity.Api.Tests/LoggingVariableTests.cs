using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// ASP.NET's Logging:LogLevel is not read (Serilog takes the levels) and is refused as an option or in a settings file;
/// as an environment variable (Logging__LogLevel__Default=Debug, or a level that is none, Verbos) it was taken without a
/// word and changed nothing, for the service and the commands.
/// </summary>
public sealed class LoggingVariableTests
{
    [Theory]
    [InlineData("Logging__LogLevel__Default", "Debug", "export")]
    [InlineData("Logging__LogLevel__Default", "Verbos", "--urls", "http://127.0.0.1:0")]
    [InlineData("Logging__LogLevel__Microsoft.AspNetCore", "Warning", "--urls", "http://127.0.0.1:0")]
    [InlineData("Logging__Directry", "none", "export")]
    public void A_logging_variable_nothing_reads_is_a_usage_error_naming_the_key_that_sets_levels(string variable, string value, params string[] arguments)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, arguments);

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith($"error: environment variable {variable}: unknown setting '{variable.Replace("__", ":", StringComparison.Ordinal)}'", stderr);
        Assert.Contains("Serilog:MinimumLevel", stderr);
    }

    [Fact]
    public void The_log_folder_an_empty_logging_variable_and_serilog_categories_are_accepted()
    {
        Assert.Null(SettingNames.EnvironmentProblem(new Dictionary<string, string>
        {
            ["Logging__Directory"] = "none",
            ["LOGGING__DIRECTORY"] = "none",
            ["Logging__Console__FormatterName"] = "", // empty is unset, as some base images set it
            ["Serilog__MinimumLevel__Override__My.Free-form_Category"] = "Debug",
        }));
    }
}
