using System.Text.Json;
using System.Text.Json.Serialization;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace NetworkSecurity.Pipeline.Artifacts;

/// <summary>Writes reports as YAML (for people) or JSON (for programs), atomically.</summary>
public static class ReportWriter
{
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private static readonly ISerializer Yaml = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .DisableAliases()
        // A feature named null, yes or 12 (a key of the drift and validation reports) was written bare and read back
        // by YAML readers as null, true or a number: such strings are quoted (YAML 1.1's booleans too, as PyYAML reads them).
        .WithQuotingNecessaryStrings(true)
        .Build();

    public static void WriteYaml(string path, object report) => SafeFile.WriteAllText(path, Yaml.Serialize(report));

    public static void WriteJson(string path, object report) => SafeFile.WriteAllText(path, JsonSerializer.Serialize(report, JsonOptions));
}
