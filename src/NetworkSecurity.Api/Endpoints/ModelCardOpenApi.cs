using Microsoft.OpenApi;
using NetworkSecurity.Pipeline.Training;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// GET /model answers null for 'serving.store_latest' without object storage (the default) and for 'importance' in a
/// card saved before explanations, but the OpenAPI document gave both as bare references, which allow no null: a
/// validating client refused every GET /model of a service without S3. They are references or null (<see cref="NullableReference"/>),
/// as <see cref="TrainingJobOpenApi"/> gives a job's outcome.
/// </summary>
public sealed class ModelCardOpenApi : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        var name = context.Type == typeof(ModelApi.ServingInfo) ? "store_latest"
            : context.Type == typeof(ModelCard) ? "importance"
            : null;
        if (name is not null && schema is OpenApiSchema { Properties: { } properties }
            && properties.TryGetValue(name, out var property) && property is OpenApiSchemaReference reference)
        {
            properties[name] = NullableReference.Of(reference);
        }
    }
}
