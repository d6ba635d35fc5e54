using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Writes /health/ready as JSON: overall status and each check's status and description (e.g. which model is live and why).</summary>
public static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), context.RequestAborted);
    }
}
