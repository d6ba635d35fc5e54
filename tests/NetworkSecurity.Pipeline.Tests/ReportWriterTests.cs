using NetworkSecurity.Pipeline.Artifacts;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class ReportWriterTests
{
    [Fact]
    public void Feature_names_a_yaml_reader_would_take_for_null_a_boolean_or_a_number_are_quoted_and_plain_names_stay_bare()
    {
        // The drift and validation reports are keyed by feature name: a schema's feature "null" or "yes" was written bare,
        // so PyYAML read the drift of None and True, and a feature "12" came back as the number 12.
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "report.yaml");
        ReportWriter.WriteYaml(path, new { columns = new Dictionary<string, int> { ["null"] = 0, ["yes"] = 1, ["12"] = 2, ["having_IP_Address"] = 3, ["a: b"] = 4 } });
        Assert.Equal(["columns:", "  \"null\": 0", "  \"yes\": 1", "  \"12\": 2", "  having_IP_Address: 3", "  'a: b': 4"], File.ReadAllLines(path));
    }
}
