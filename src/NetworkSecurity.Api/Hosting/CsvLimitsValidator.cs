using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Refuses CSV limits no upload with the schema's features can meet, at start: Api:MaxColumns=20 started, then answered
/// every CSV upload 413 (every feature: too wide) or 400 (fewer: columns missing); so did a header or cell limit below
/// what the features' names need.
/// </summary>
public sealed class CsvLimitsValidator(IConfiguration configuration) : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var set = configuration[$"{PipelineOptions.SectionName}:{nameof(PipelineOptions.SchemaPath)}"];
        var path = BundledFile.Resolve(string.IsNullOrEmpty(set) ? new PipelineOptions().SchemaPath : set);
        DataSchema schema;
        try
        {
            schema = SchemaLoader.Load(path);
        }
        catch (PipelineException)
        {
            return ValidateOptionsResult.Skip; // said by TrainingOptionsValidator, naming Pipeline:SchemaPath
        }

        // Each feature by its shortest name (aliases count): the shortest header any upload can have.
        var names = schema.Features.Select(f => f.Aliases.Prepend(f.Name).MinBy(n => n.Length)!).ToArray();
        var header = names.Sum(n => n.Length) + names.Length - 1;
        var longest = names.MaxBy(n => n.Length)!;
        var failures = new List<string>();
        if (options.MaxColumns < schema.Features.Count)
        {
            failures.Add($"Api:MaxColumns ({options.MaxColumns}) is below the {schema.Features.Count} features of the schema '{path}': every CSV upload would be refused.");
        }

        if (options.MaxHeaderLength < header)
        {
            failures.Add($"Api:MaxHeaderLength ({options.MaxHeaderLength}) is below the shortest header the schema '{path}' allows ({header} characters, each feature by its shortest name): every CSV upload would be refused.");
        }

        // The shortest record any upload can have: as few features as Api:MaxMissingFraction lets a record give, each by
        // its shortest value ("1", not "-1"), the others empty, with a separator between every two of the features.
        var given = schema.Features.Count - RecordParser.MaxMissing(schema.Features.Count, options.MaxMissingFraction);
        var record = schema.Features
            .Select(f => f.AllowedValues.Count == 0 ? 1 : f.AllowedValues.Min(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture).Length))
            .Order().Take(given).Sum() + schema.Features.Count - 1;
        if (options.MaxLineLength < record)
        {
            failures.Add($"Api:MaxLineLength ({options.MaxLineLength}) is below the shortest record the schema '{path}' allows ({record} characters: {given} of its {schema.Features.Count} features given, as Api:MaxMissingFraction requires, each by its shortest value, the others empty): every CSV record would be refused.");
        }

        if (options.MaxCellLength < longest.Length)
        {
            failures.Add($"Api:MaxCellLength ({options.MaxCellLength}) is below the length of the column name '{longest}' ({longest.Length} characters, that feature's shortest name in the schema '{path}'): every CSV upload would be refused.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
