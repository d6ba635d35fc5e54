using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// What the endpoints' metadata leaves out of the OpenAPI document, so that Swagger UI's "Try it out" works: the upload
/// form of POST /predict (a 'file' field; a bare binary body made the UI send an empty form), the API key POST /train
/// takes when one is configured, what a training job's id is, and the health probes (mapped as plain endpoints, unseen by the API explorer).
/// </summary>
public sealed class ServiceOpenApi : IOperationFilter, IDocumentFilter
{
    public const string ApiKeyScheme = "ApiKey";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        if (name == "PredictCsv" && operation.RequestBody?.Content is { } content && content.ContainsKey("multipart/form-data"))
        {
            content["multipart/form-data"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "file" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The CSV file of website records." },
                    },
                },
            };
        }
        else if (name == "StartTraining")
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] }];
        }
        else if (name == "GetTrainingJob" && operation.Parameters?.FirstOrDefault(p => p.Name == "id") is OpenApiParameter id)
        {
            // Swagger UI showed an empty box under it.
            id.Description = "The job's id: 32 lower-case hexadecimal digits, as POST /train answers it (its id, and the end of its Location).";
        }
    }

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = TrainingApi.ApiKeyHeader,
            Description = "Needed by POST /train only when the server has an API key configured (NETWORKSECURITY_API_KEY).",
        };
        // Liveness runs no check (its answer is that the process answers): never a 503, so none is listed.
        Probe(document, "/health/live", "Liveness", "200 while the process serves requests.", "text/plain", new OpenApiSchema { Type = JsonSchemaType.String }, mayFail: false);
        Probe(document, "/health/ready", "Readiness", "200 (Healthy, or Degraded when an older model is served) once a model is loaded (and MongoDB answers, when configured); 503 until then.", "application/json",
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Healthy, Degraded or Unhealthy." },
                    ["checks"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Each check by name: its status and description (which model is live and why)." },
                },
            });
    }

    private static void Probe(OpenApiDocument document, string path, string summary, string description, string mediaType, OpenApiSchema schema, bool mayFail = true)
    {
        var answer = new OpenApiMediaType { Schema = schema };
        var responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = mayFail ? "Healthy (or Degraded)" : "Healthy", Content = new Dictionary<string, IOpenApiMediaType> { [mediaType] = answer } },
        };
        if (mayFail)
        {
            responses["503"] = new OpenApiResponse { Description = "Unhealthy", Content = new Dictionary<string, IOpenApiMediaType> { [mediaType] = answer } };
        }

        document.Paths[path] = new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Get] = new()
                {
                    // Every other operation has an id (client generators name their methods after it).
                    OperationId = summary,
                    Summary = summary,
                    Description = description,
                    Tags = new HashSet<OpenApiTagReference> { new("Health", document) },
                    Responses = responses,
                },
            },
        };
    }
}
