using System.Net;
using System.Text;
using System.Text.Json;

namespace NetworkSecurity.Api.Tests;

/// <summary>What the HTTP edge tests share: raw bodies with any Content-Type, ProblemDetails checks, the service's log files.</summary>
internal static class HttpTestHelpers
{
    /// <summary>A body sent as is, with a Content-Type HttpClient would otherwise refuse or rewrite.</summary>
    public static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    public static ByteArrayContent Raw(string body, string contentType) => Raw(Encoding.UTF8.GetBytes(body), contentType);

    /// <summary>Checks the status and the ProblemDetails media type; returns the problem.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {text}");
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString());
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Every log file in <paramref name="folder"/>, read while the service may still be writing them.</summary>
    public static string ReadLogs(string folder) => string.Concat(Directory.GetFiles(folder).Select(f =>
    {
        using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }));
}
