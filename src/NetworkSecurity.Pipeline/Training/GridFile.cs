using NetworkSecurity.Learning.ModelSelection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetworkSecurity.Pipeline.Training;

/// <summary>
/// Reads the search grids (data_schema/model_grid.yaml): <c>learners:</c> maps an entry name to hyperparameter lists;
/// an entry may name its learner with <c>learner:</c> (default: the entry name).
/// </summary>
public static class GridFile
{
    public static IReadOnlyList<GridCandidate> Load(string path)
    {
        if (Artifacts.FileKind.ReadableFileProblem(path, "Grid file") is { } problem)
        {
            throw new PipelineException(problem);
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<GridCandidate> Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new PipelineException($"Grid file '{source}', line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new PipelineException($"Grid file '{source}' is not valid YAML: {YamlSyntax.FirstUnbalancedBracket(yaml) ?? "the parser stopped"}.", ex);
        }

        if (stream.Documents.Count == 0
            || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("learners"), out var learnersNode)
            || learnersNode is not YamlMappingNode learners
            || learners.Children.Count == 0)
        {
            throw new PipelineException($"Grid file '{source}' has no 'learners:' section with at least one learner.");
        }

        var candidates = new List<GridCandidate>();
        foreach (var (key, value) in learners.Children)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            if (value is not YamlMappingNode parameters)
            {
                throw new PipelineException($"Grid file '{source}', line {key.Start.Line}: '{name}' must map hyperparameters to lists of values.");
            }

            var learner = name;
            var grid = new List<KeyValuePair<string, IReadOnlyList<string>>>();
            foreach (var (parameterKey, values) in parameters.Children)
            {
                var parameter = ((YamlScalarNode)parameterKey).Value ?? "";
                if (parameter == "learner")
                {
                    learner = (values as YamlScalarNode)?.Value ?? learner;
                    continue;
                }

                IReadOnlyList<string> list = values switch
                {
                    YamlSequenceNode sequence => sequence.Children.Select(v => (v as YamlScalarNode)?.Value ?? "").ToArray(),
                    YamlScalarNode scalar => [scalar.Value ?? ""],
                    _ => throw new PipelineException($"Grid file '{source}', line {values.Start.Line}: {name}.{parameter} must be a value or a list."),
                };
                grid.Add(new(parameter, list));
            }

            candidates.Add(new GridCandidate(name, learner, grid));
        }

        return candidates;
    }
}
