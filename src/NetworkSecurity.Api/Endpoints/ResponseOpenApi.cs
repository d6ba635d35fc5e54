using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// What the answers carry beyond their bodies, for the OpenAPI document: the response headers each operation sets
/// (model version and origin, empty features, Location, Retry-After, WWW-Authenticate), the 'serving' member GET /model
/// adds to the model card, the null GET /train answers before any job, the located problems of a prediction's 400 and
/// the lease holder of a 409 of POST /train.
/// </summary>
public sealed class ResponseOpenApi : IOperationFilter
{
    private const string ServedModelSchema = "ServedModel";
    private const string InputProblemSchema = "InputProblem";
    private const string LeaseConflictSchema = "LeaseConflict";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses is not { } responses)
        {
            return;
        }

        var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        switch (name)
        {
            case "PredictCsv" or "PredictJson":
                foreach (var (status, response) in responses)
                {
                    Header(response, PredictionApi.ModelVersionHeader, "The version of the model that scored the request (on refusals: that would have), once a model is loaded.");
                    if (status == "503")
                    {
                        Header(response, "Retry-After", "Seconds to wait, when the model is on its way or the service is shutting down; absent when waiting will not help.", JsonSchemaType.Integer);
                    }
                }

                InputProblem(responses, context);
                Header(responses, "200", PredictionApi.EmptyFeaturesHeader, "Features with no value in any record of the request (two or more records): imputed in every one, comma-separated (characters outside printable ASCII, and %, percent-encoded as UTF-8).");
                break;
            case "GetModel":
                Header(responses, "200", PredictionApi.ModelVersionHeader, "The live model's version.");
                Header(responses, "200", ModelApi.ModelOriginHeader, "Where the live model came from (trained here, pulled from object storage, the local folder; characters outside printable ASCII, and %, percent-encoded as UTF-8).");
                ServedModel(responses, context);
                break;
            case "StartTraining":
                Header(responses, "202", "Location", "Where to poll the job: /train/{id}.");
                Header(responses, "401", "WWW-Authenticate", "How to authenticate: the X-Api-Key header.");
                Header(responses, "409", "Retry-After", "Seconds until the holder's training lease expires at the latest.", JsonSchemaType.Integer);
                Header(responses, "503", "Retry-After", "Seconds to wait before asking the shared store again.", JsonSchemaType.Integer);
                LeaseConflict(responses, context);
                break;
            case "GetTrainingJob":
                // The 503 of a job this replica does not know, while the shared store cannot be asked or its record is unreadable.
                Header(responses, "503", "Retry-After", "Seconds to wait before asking again, when the shared store where replicas record their jobs cannot be asked or holds an unreadable record of the job.", JsonSchemaType.Integer);
                break;
            case "GetLatestTrainingJob" when responses.TryGetValue("200", out var ok) && ok.Content?.TryGetValue("application/json", out var media) == true && media is OpenApiMediaType { Schema: { } job } editable:
                editable.Schema = NullableReference.Of(job);
                break;
        }
    }

    // A 400 of the predict endpoints lists every located problem in 'errors' (Problems.BadInput), which the plain
    // ProblemDetails schema left for clients to guess: a schema of its own, ProblemDetails with that list.
    private static void InputProblem(OpenApiResponses responses, OperationFilterContext context) =>
        ProblemWith(responses, "400", InputProblemSchema, "ProblemDetails; when the input itself is at fault, 'errors' lists each problem (up to 100) with where it is.", context, new Dictionary<string, IOpenApiSchema>
        {
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Items = context.SchemaGenerator.GenerateSchema(typeof(ProblemItem), context.SchemaRepository),
                Description = "Each problem: its line (or record), column number, field name and what is wrong.",
            },
        });

    // A 409 of POST /train names the lease's holder (TrainingApi), as the README and docs/deployment.md say: documented too.
    private static void LeaseConflict(OpenApiResponses responses, OperationFilterContext context) =>
        ProblemWith(responses, "409", LeaseConflictSchema, "ProblemDetails naming who holds the training lease and until when.", context, new Dictionary<string, IOpenApiSchema>
        {
            ["holder"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The replica that holds the training lease." },
            ["job_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Its training job (GET /train/{id} on that replica)." },
            ["expires_at"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time", Description = "When the lease lapses at the latest, unless renewed (on the store's clock)." },
        });

    // The response's ProblemDetails schema extended with members of its own, as a component named once.
    private static void ProblemWith(OpenApiResponses responses, string status, string name, string description, OperationFilterContext context, Dictionary<string, IOpenApiSchema> members)
    {
        if (!responses.TryGetValue(status, out var response) || response.Content?.TryGetValue("application/problem+json", out var media) != true
            || media is not OpenApiMediaType { Schema: { } problem } editable)
        {
            return;
        }

        if (!context.SchemaRepository.Schemas.ContainsKey(name))
        {
            context.SchemaRepository.AddDefinition(name, new OpenApiSchema
            {
                Description = description,
                AllOf = [problem, new OpenApiSchema { Type = JsonSchemaType.Object, Properties = members }],
            });
        }

        editable.Schema = new OpenApiSchemaReference(name, context.Document);
    }

    // GET /model answers the card with one more member, 'serving': a schema of its own, so validators accept it.
    private static void ServedModel(OpenApiResponses responses, OperationFilterContext context)
    {
        if (!responses.TryGetValue("200", out var ok) || ok.Content?.TryGetValue("application/json", out var media) != true || media is not OpenApiMediaType editable
            || !context.SchemaRepository.Schemas.TryGetValue(nameof(Pipeline.Training.ModelCard), out var card) || card is not OpenApiSchema cardSchema)
        {
            return;
        }

        if (!context.SchemaRepository.Schemas.ContainsKey(ServedModelSchema))
        {
            var properties = new Dictionary<string, IOpenApiSchema>(cardSchema.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                ["serving"] = context.SchemaGenerator.GenerateSchema(typeof(ModelApi.ServingInfo), context.SchemaRepository),
            };
            if (properties.TryGetValue("test", out var test))
            {
                properties["test"] = NullableReference.Of(test, "Test metrics; null for a model trained on every row (no hold-out).");
            }
            context.SchemaRepository.AddDefinition(ServedModelSchema, new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "The model card and, in 'serving', which version is live and why.",
                Properties = properties,
                Required = cardSchema.Required is { } required ? new HashSet<string>(required) { "serving" } : new HashSet<string> { "serving" },
                AdditionalPropertiesAllowed = cardSchema.AdditionalPropertiesAllowed,
            });
        }

        editable.Schema = new OpenApiSchemaReference(ServedModelSchema, context.Document);
    }

    private static void Header(OpenApiResponses responses, string status, string header, string description, JsonSchemaType type = JsonSchemaType.String)
    {
        if (responses.TryGetValue(status, out var response))
        {
            Header(response, header, description, type);
        }
    }

    private static void Header(IOpenApiResponse response, string header, string description, JsonSchemaType type = JsonSchemaType.String)
    {
        if (response is OpenApiResponse editable)
        {
            editable.Headers ??= new Dictionary<string, IOpenApiHeader>();
            editable.Headers[header] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
        }
    }
}
