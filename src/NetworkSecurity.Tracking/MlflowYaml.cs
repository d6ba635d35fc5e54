using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetworkSecurity.Tracking;

/// <summary>Reads MLflow's meta.yaml files as YAML (any quoting style PyYAML or a person may have used), not line by line.</summary>
internal static class MlflowYaml
{
    /// <summary>The top-level scalar keys and values of a YAML mapping file, or null when it is missing or not a mapping.</summary>
    public static Dictionary<string, string>? ReadMapping(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var reader = new StreamReader(path);
            var stream = new YamlStream();
            stream.Load(reader);
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                return null;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in mapping.Children)
            {
                if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { } text })
                {
                    values[name] = text;
                }
            }

            return values;
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException) // the parser's two ways of giving up
        {
            return null;
        }
    }
}
