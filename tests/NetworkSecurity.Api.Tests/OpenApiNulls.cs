using System.Text.Json;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Whether an OpenAPI 3.0 schema lets a value be null, as validators read it (openapi-schema-validator, openapi-core):
/// "nullable: true" adds null to its own type only, so every allOf part and a $ref's target must allow null as well,
/// and one anyOf/oneOf branch must. "nullable" alone beside an allOf of a reference looked right and allowed none.
/// </summary>
internal static class OpenApiNulls
{
    public static bool Allows(JsonElement schema, JsonElement document)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var target = document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                target = target.GetProperty(part);
            }

            return Allows(target, document);
        }

        var nullable = schema.TryGetProperty("nullable", out var flag) && flag.GetBoolean();
        if (schema.TryGetProperty("type", out _) && !nullable)
        {
            return false;
        }

        if (schema.TryGetProperty("enum", out var values) && values.EnumerateArray().All(v => v.ValueKind != JsonValueKind.Null))
        {
            return false;
        }

        if (schema.TryGetProperty("allOf", out var all) && !all.EnumerateArray().All(part => Allows(part, document)))
        {
            return false;
        }

        foreach (var either in new[] { "anyOf", "oneOf" })
        {
            if (schema.TryGetProperty(either, out var branches) && !branches.EnumerateArray().Any(branch => Allows(branch, document)))
            {
                return false;
            }
        }

        return true;
    }
}
