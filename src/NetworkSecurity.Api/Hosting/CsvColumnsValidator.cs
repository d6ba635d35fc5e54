using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Refuses an Api:MaxColumns below the schema's feature count at start: a header with every feature is then too wide,
/// and one without them lacks columns (Api:MaxColumns=20 started, then answered every CSV upload 413 or 400).
/// </summary>
public sealed class CsvColumnsValidator(IConfiguration configuration) : IValidateOptions<ApiOptions>
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
            return ValidateOptionsResult.Skip; // said where the schema is loaded, with its own reason
        }

        return options.MaxColumns < schema.Features.Count
            ? ValidateOptionsResult.Fail($"Api:MaxColumns ({options.MaxColumns}) is below the {schema.Features.Count} features of the schema '{path}': every CSV upload would be refused.")
            : ValidateOptionsResult.Success;
    }
}
