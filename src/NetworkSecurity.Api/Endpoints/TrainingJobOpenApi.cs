using Microsoft.OpenApi;
using NetworkSecurity.Api.Training;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// A job's outcome and publication are null until the run has them (queued, running, failed), but the OpenAPI document
/// gave them as bare references, which allow no null: every answer of POST /train and GET /train/{id} before a job
/// ended failed a validating client. They are references or null (<see cref="NullableReference"/>).
/// </summary>
public sealed class TrainingJobOpenApi : ISchemaFilter
{
    private static readonly string[] NullUntilKnown = ["outcome", "publication"];

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type != typeof(TrainingJobStatus) || schema is not OpenApiSchema { Properties: { } properties })
        {
            return;
        }

        foreach (var name in NullUntilKnown)
        {
            if (properties.TryGetValue(name, out var property) && property is OpenApiSchemaReference reference)
            {
                properties[name] = NullableReference.Of(reference);
            }
        }
    }
}
