using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// A reference to a component schema that an answer may also give as null, in OpenAPI 3.0's terms. "nullable: true"
/// beside an allOf of the reference allows no null: the referenced object schema must hold too, and it refuses null
/// (OpenAPI 3.0.3's clarification of nullable; openapi-schema-validator and openapi-core read it so). Null is a branch
/// of its own instead: anyOf the reference or the null value.
/// </summary>
public static class NullableReference
{
    public static OpenApiSchema Of(IOpenApiSchema reference, string? description = null) => new()
    {
        Description = description,
        AnyOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, Enum = [JsonValue.Create((string?)null)!] }],
    };
}
