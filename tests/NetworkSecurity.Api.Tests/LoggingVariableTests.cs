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

    [Fact]
    public void A_template_s_log_levels_in_a_settings_file_are_refused_with_the_serilog_section_to_write_instead()
    {
        // Every ASP.NET template's appsettings.json has this section; the refusal named the first key alone and gave an
        // option (--Serilog:MinimumLevel:Default=Debug) as the fix for a file.
        using var dir = new TempDirectory();
        var file = dir.File("appsettings.json", """
            {
              "Logging": {
                "LogLevel": {
                  "Default": "Information",
                  "Microsoft.AspNetCore": "Warning",
                  "System.Net.Http": "Trace"
                }
              },
              "AllowedHosts": "*"
            }
            """);
        foreach (string[] arguments in new[] { new[] { "export" }, ["--urls", "http://127.0.0.1:0"] })
        {
            var (code, stdout, stderr) = ProgramProcess.Run(dir, [], arguments);
            Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
            Assert.Equal(
                $"error: settings file '{file}': \"Logging\": {{\"LogLevel\": …}} is ASP.NET's, which this program does not read (Serilog sets the levels): "
                + "write \"Serilog\": {\"MinimumLevel\": {\"Default\": \"Information\", \"Override\": {\"Microsoft.AspNetCore\": \"Warning\", \"System.Net.Http\": \"Verbose\"}}} in its place "
                + "(Serilog's levels: Verbose, Debug, Information, Warning, Error, Fatal; ASP.NET's Trace is Verbose, Critical and None are Fatal).",
                stderr.Trim());
        }
    }

    [Theory]
    [InlineData("Logging__LogLevel__Default", "Trace", "set Serilog__MinimumLevel__Default=Verbose instead")]
    [InlineData("Logging__LogLevel__Microsoft.AspNetCore", "Critical", "set Serilog__MinimumLevel__Override__Microsoft.AspNetCore=Fatal instead")]
    [InlineData("ASPNETCORE_Logging__LogLevel__Default", "Debug", "without it: unknown setting 'Logging:LogLevel:Default': ASP.NET's log levels are not read here, Serilog sets them under Serilog:MinimumLevel: set Serilog__MinimumLevel__Default=Debug instead")] // was "=" with no level
    public void A_log_level_variable_names_the_variable_to_set_instead(string variable, string value, string instead)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, "export");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(instead, stderr);
    }

    [Fact]
    public void A_log_level_option_names_the_option_to_give_instead()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export", "--Logging:LogLevel:Default=Debug");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("give --Serilog:MinimumLevel:Default=Debug instead", stderr);

        // Given empty, the key to set is named with a placeholder, not as "--Serilog:MinimumLevel:Default=".
        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export", "--Logging:LogLevel:Default=");
        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("give --Serilog:MinimumLevel:Default=LEVEL instead", stderr);
    }
}
