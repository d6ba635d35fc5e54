using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace NetworkSecurity.Pipeline.Schema;

/// <summary>Reads data_schema/schema.yaml.</summary>
public static class SchemaLoader
{
    public static DataSchema Load(string path)
    {
        if (Artifacts.FileKind.ReadableFileProblem(path, "Schema file") is { } problem)
        {
            throw new PipelineException(problem);
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static DataSchema Parse(string yaml, string sourceName)
    {
        SchemaDocument document;
        try
        {
            document = new DeserializerBuilder()
                .WithNamingConvention(UnderscoredNamingConvention.Instance)
                .Build()
                .Deserialize<SchemaDocument>(yaml) ?? throw new PipelineException($"Schema file '{sourceName}' is empty.");
        }
        catch (YamlException ex) when (ex.InnerException is FormatException or OverflowException)
        {
            // .NET's own words named neither the value nor the rule: "allowed: [0.5, 1.5]" read "Could not find any
            // recognizable digits.", a class "value: yes" "The input string 'yes' was not in a correct format."
            throw new PipelineException($"Schema file '{sourceName}', line {ex.Start.Line}, column {ex.Start.Column}: '{ScalarAt(yaml, ex.Start)}' is not a whole number: allowed values, class values and the version are whole numbers (a float feature without an allowed list takes any number).", ex);
        }
        catch (YamlException ex)
        {
            throw new PipelineException($"Schema file '{sourceName}', line {ex.Start.Line}, column {ex.Start.Column}: {Describe(ex.InnerException?.Message ?? ex.Message)}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new PipelineException($"Schema file '{sourceName}' is not valid YAML: {YamlSyntax.FirstUnbalancedBracket(yaml) ?? "the parser stopped"}.", ex);
        }

        if (document.Features is not { Count: > 0 })
        {
            throw new PipelineException($"Schema file '{sourceName}' lists no features.");
        }

        if (document.Target is null || string.IsNullOrWhiteSpace(document.Target.Name))
        {
            throw new PipelineException($"Schema file '{sourceName}' has no target column.");
        }

        if (document.Target.Classes is not { Count: 2 })
        {
            throw new PipelineException($"Schema file '{sourceName}': the target '{document.Target.Name}' must list exactly two classes (phishing first).");
        }

        var features = document.Features.Select((f, i) => new FeatureColumn(
            string.IsNullOrWhiteSpace(f.Name) ? throw new PipelineException($"Schema file '{sourceName}': feature {i + 1} has no name.") : f.Name,
            f.Allowed ?? [],
            f.Aliases ?? [])
        {
            WholeNumbers = IsWholeNumberType(f.Type, $"feature '{f.Name}'", sourceName, allowFloat: true),
        }).ToArray();
        _ = IsWholeNumberType(document.Target.Type, $"the target '{document.Target.Name}'", sourceName, allowFloat: false);
        var duplicate = features.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new PipelineException($"Schema file '{sourceName}': feature '{duplicate.Key}' is listed twice.");
        }

        RefuseSharedNames(features, document.Target, document.IndexColumns ?? [], sourceName);
        var listed = document.Target.Classes.Select(c => new TargetClass(c.Value, c.Name ?? c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var learned = PhishingFirst(listed, document.Target.Name, sourceName);
        var target = new TargetColumn(document.Target.Name, document.Target.Aliases ?? [], learned)
        {
            ListedLegitimateFirst = !ReferenceEquals(learned[0], listed[0]),
        };
        return new DataSchema(document.Version, features, target, document.IndexColumns ?? []) { Source = sourceName };
    }

    // A name given to two columns (a feature's alias that is another feature's name, a target alias that names a feature)
    // was read one way from a CSV header (names before aliases, features before the target) and another from JSON keys
    // (the last listed won): one column name must mean one thing.
    private static void RefuseSharedNames(IReadOnlyList<FeatureColumn> features, TargetDocument target, IReadOnlyList<string> indexColumns, string sourceName)
    {
        var owners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Claim(string name, string owner)
        {
            // Column names are read without surrounding white space or double quotes (ColumnMapping.Normalize): such a
            // name matched no column, and training failed with "missing column(s): a "b"; unknown column(s): a "b"".
            if (ColumnMapping.Normalize(name) is var read && read != name)
            {
                throw new PipelineException($"Schema file '{sourceName}': the name '{name}' of {owner} starts or ends with white space or a double quote, which column names are read without ('{read}'), so no column could match it; remove them.");
            }

            if (owners.TryGetValue(name.Trim(), out var other) && other != owner)
            {
                throw new PipelineException($"Schema file '{sourceName}': the name '{name}' is given to {other} and to {owner}; a column name must mean one thing.");
            }

            owners[name.Trim()] = owner;
        }

        foreach (var feature in features)
        {
            foreach (var name in feature.Aliases.Prepend(feature.Name))
            {
                Claim(name, $"feature '{feature.Name}'");
            }
        }

        foreach (var name in (target.Aliases ?? []).Prepend(target.Name))
        {
            Claim(name, $"the target '{target.Name}'");
        }

        foreach (var name in indexColumns)
        {
            Claim(name, "the row-number columns (index_columns)");
        }
    }

    // The type was read and ignored: "type: string" loaded, and an int feature took 2.5.
    private static bool IsWholeNumberType(string? type, string what, string sourceName, bool allowFloat) =>
        type?.Trim().ToLowerInvariant() switch
        {
            null or "" or "int" => true,
            "float" when allowFloat => false,
            _ => throw new PipelineException($"Schema file '{sourceName}': {what} has type '{type}': use {(allowFloat ? "int (whole numbers) or float" : "int (class values are whole numbers)")}."),
        };

    // Label 0 is phishing everywhere (verdicts, phishing_probability, the gate): a schema listing its classes in value
    // order, e.g. 0 legitimate then 1 phishing, had every verdict inverted. A class named phishing or legitimate takes
    // its place whatever the listing order; classes with other names keep it (phishing first).
    private static TargetClass[] PhishingFirst(TargetClass[] classes, string target, string sourceName)
    {
        if (classes[0].Value == classes[1].Value)
        {
            throw new PipelineException($"Schema file '{sourceName}': the two classes of the target '{target}' have the same value {classes[0].Value}.");
        }

        if (string.Equals(classes[0].Name, classes[1].Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new PipelineException($"Schema file '{sourceName}': the two classes of the target '{target}' are both named '{classes[0].Name}'.");
        }

        static bool Named(TargetClass c, string name) => string.Equals(c.Name.Trim(), name, StringComparison.OrdinalIgnoreCase);
        return Named(classes[1], "phishing") || Named(classes[0], "legitimate") ? [classes[1], classes[0]] : classes;
    }

    /// <summary>The plain or quoted scalar that starts at <paramref name="mark"/> (line and column from 1), as written.</summary>
    private static string ScalarAt(string yaml, Mark mark)
    {
        var lines = yaml.Split('\n');
        var line = mark.Line >= 1 && mark.Line <= lines.Length ? lines[mark.Line - 1].TrimEnd('\r') : "";
        var rest = mark.Column >= 1 && mark.Column <= line.Length ? line[(int)(mark.Column - 1)..] : "";
        var end = rest.IndexOfAny([',', ']', '}', '#']);
        return (end < 0 ? rest : rest[..end]).Trim().Trim('"', '\'');
    }

    // YAML shape; mutable because YamlDotNet fills it.
    // YamlDotNet names our private document types ("Property 'x' not found on type '...SchemaLoader+SchemaDocument'"):
    // say which key is unknown and where, in the file's own terms.
    private static string Describe(string message) =>
        System.Text.RegularExpressions.Regex.Match(message, "^Property '(?<key>[^']*)' not found on type '[^']*\\+(?<type>[A-Za-z]+)Document'") is { Success: true } match
            ? $"unknown key '{match.Groups["key"].Value}' in {match.Groups["type"].Value switch
            {
                "Feature" => "a feature (keys: name, type, allowed, aliases)",
                "Target" => "the target (keys: name, type, aliases, classes)",
                "Class" => "a target class (keys: value, name)",
                _ => "the schema (keys: version, features, target, index_columns)",
            }}."
            : message;

    private sealed class SchemaDocument
    {
        public int Version { get; set; } = 1;

        public List<FeatureDocument>? Features { get; set; }

        public TargetDocument? Target { get; set; }

        public List<string>? IndexColumns { get; set; }
    }

    private sealed class FeatureDocument
    {
        public string Name { get; set; } = "";

        public string Type { get; set; } = "int";

        public List<int>? Allowed { get; set; }

        public List<string>? Aliases { get; set; }
    }

    private sealed class TargetDocument
    {
        public string Name { get; set; } = "";

        public string Type { get; set; } = "int";

        public List<string>? Aliases { get; set; }

        public List<ClassDocument>? Classes { get; set; }
    }

    private sealed class ClassDocument
    {
        public int Value { get; set; }

        public string? Name { get; set; }
    }
}
