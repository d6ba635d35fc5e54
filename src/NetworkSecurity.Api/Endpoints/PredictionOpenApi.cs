using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using NetworkSecurity.Pipeline.Schema;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// What endpoint metadata cannot say in the OpenAPI document: POST /predict answers three media types with different
/// bodies (a JSON schema, an HTML page, CSV text), its refusals a browser as a page, and both predict endpoints read
/// ?echo and ?explain from the query. POST /predict/json gets an example body that the service accepts.
/// </summary>
public sealed class PredictionOpenApi(DataSchema schema) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        if (name is not ("PredictCsv" or "PredictJson"))
        {
            return;
        }

        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = ExplainQuery.Name,
            In = ParameterLocation.Query,
            Description = "Why each verdict: a whole number of top features (1 to the feature count) or 'all'. Absent: no explanations.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
        if (name == "PredictJson")
        {
            // Swagger UI's "Try it out" fills the body from the example; from the schema alone it sent
            // {"records":[{"additionalProp1":"string",…}]}, a 400 for 33 problems.
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true && body is OpenApiMediaType editable)
            {
                editable.Example = ExampleRequest();
            }

            return;
        }

        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "echo",
            In = ParameterLocation.Query,
            Description = "false: leave the input columns out of a JSON or CSV answer (true by default).",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Boolean },
        });
        if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is { } content)
        {
            content["text/html"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A page with the verdicts table." } };
            content["text/csv"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The input rows with prediction, verdict and probability columns." } };
        }

        // A browser's refusals (Accept naming text/html) come as a page: HtmlProblemWriter. A 406 never goes to one.
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (status is "400" or "408" or "413" or "415" or "503" && response.Content is { } problem)
            {
                problem["text/html"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For a browser (an Accept that names text/html): a page with the title, the detail and every located problem." } };
            }
        }
    }

    // One record naming every feature with an allowed value (the first the schema lists; 0 for a feature that allows
    // any number: indexing its empty list made the whole document a 500).
    private JsonObject ExampleRequest()
    {
        var record = new JsonObject();
        foreach (var feature in schema.Features)
        {
            record[feature.Name] = feature.AllowedValues.Count > 0 ? feature.AllowedValues[0] : 0;
        }

        return new JsonObject { ["records"] = new JsonArray(record) };
    }
}
