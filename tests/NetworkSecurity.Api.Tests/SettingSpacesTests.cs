using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// A setting empty, blank or with spaces around it is told so, once, by the commands and the service alike:
/// Pipeline__DataSource=' csv' was refused as "must be 'csv' or 'mongodb'" without a word of the spaces, and
/// Pipeline__ArtifactsRoot=' ' with two errors, "The ArtifactsRoot field is required." and "has spaces around it".
/// </summary>
public sealed class SettingSpacesTests
{
    [Theory]
    [InlineData("Pipeline__DataSource", " csv", "Pipeline:DataSource ' csv' has spaces around it: give 'csv' without them.")]
    [InlineData("Pipeline__Split", "grouped ", "Pipeline:Split 'grouped ' has spaces around it: give 'grouped' without them.")]
    [InlineData("Pipeline__Training__Mode", " gbdt", "Pipeline:Training:Mode ' gbdt' has spaces around it: give 'gbdt' without them.")]
    [InlineData("Pipeline__Training__Scoring", " ", "Pipeline:Training:Scoring ' ' is blank: give 'f1', 'accuracy' or 'roc_auc', or leave the setting out.")]
    [InlineData("Replication__LeaseMode", "settle ", "Replication:LeaseMode 'settle ' has spaces around it: give 'settle' without them.")]
    [InlineData("Pipeline__ArtifactsRoot", " ", "Pipeline:ArtifactsRoot (--artifacts) ' ' is blank: give a path, or leave the setting out.")]
    [InlineData("Pipeline__SchemaPath", "  ", "Pipeline:SchemaPath (--schema) '  ' is blank: give a path, or leave the setting out.")]
    [InlineData("Pipeline__SchemaPath", " schema.yaml", "Pipeline:SchemaPath (--schema) ' schema.yaml' has spaces around it: give the path without them.")]
    public void A_padded_or_blank_setting_is_one_error_saying_so(string variable, string value, string message)
    {
        using var dir = new TempDirectory();
        var key = variable.Replace("__", ":", StringComparison.Ordinal);
        foreach (string[] arguments in new[] { new[] { "export", "--final-model", Path.Combine(dir.Path, "final_model") }, ["--urls", "http://127.0.0.1:0"] })
        {
            var (code, stdout, stderr) = ProgramProcess.Run(dir, new() { [variable] = value }, arguments);

            Assert.True(code == 2, $"{arguments[0]}: exit {code}: {stderr}{stdout}");
            // The message alone, right after "configuration: " and right before where the value came from: no second error.
            Assert.Contains($"configuration: {message} ({key} = '{value}' from environment variable {variable})", stderr);
        }
    }

    [Fact]
    public void An_empty_choice_given_as_an_option_says_it_is_empty()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "export", "--Pipeline:DataSource=");

        Assert.True(code == 2, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Pipeline:DataSource is empty: give 'csv' or 'mongodb', or leave the setting out. (Pipeline:DataSource = '' from option --Pipeline:DataSource)", stderr);
        Assert.DoesNotContain("field is required", stderr);
    }
}
