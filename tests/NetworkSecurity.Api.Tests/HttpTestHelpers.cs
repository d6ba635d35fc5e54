using System.Net;
using System.Text;
using System.Text.Json;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// What the HTTP edge tests share: raw bodies with any Content-Type, ProblemDetails checks, raw-socket uploads, the
/// service's log files.
/// </summary>
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

    /// <summary>
    /// Sends the head of a POST with Expect: 100-continue and waits for the 100: from then on the endpoint is reading the
    /// body, however loaded the cores are (a reset before that is a dropped connection, not a request).
    /// </summary>
    public static async Task ExpectContinueAsync(Stream stream, string path, string contentType, long contentLength)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength}\r\nExpect: 100-continue\r\n\r\n"));
        await stream.FlushAsync();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // against a hang only
        Assert.StartsWith("HTTP/1.1 100", await ReadUntilAsync(stream, "\r\n\r\n", "The server closed the connection instead of continuing", wait.Token));
    }

    /// <summary>Reads a raw answer until it holds <paramref name="marker"/>; the connection closing first fails with <paramref name="closed"/>.</summary>
    public static async Task<string> ReadUntilAsync(Stream stream, string marker, string closed, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var answer = "";
        while (!answer.Contains(marker, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            Assert.True(read > 0, $"{closed}: {answer}");
            answer += Encoding.UTF8.GetString(buffer, 0, read);
        }

        return answer;
    }

    /// <summary>Every log file in <paramref name="folder"/>, read while the service may still be writing them.</summary>
    public static string ReadLogs(string folder) => string.Concat(Directory.GetFiles(folder).Select(f =>
    {
        using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }));

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds, for at most a minute (what it waits for comes later on a loaded
    /// machine; never a fixed delay that assumes the machine's speed).
    /// </summary>
    public static async Task WaitForAsync(Func<bool> condition, string what, int pollMilliseconds = 100)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(pollMilliseconds);
        }

        Assert.True(condition(), $"waited 60 s for {what}");
    }

    /// <summary>
    /// A body with its length announced whose first bytes are sent at once and the rest once <paramref name="rest"/>
    /// completes: the request has reached the endpoint (its head and announced length are in), the body is held back.
    /// </summary>
    public sealed class HeldBackContent : HttpContent
    {
        private readonly byte[] _body;
        private readonly Task _rest;

        public HeldBackContent(byte[] body, string contentType, Task rest)
        {
            _body = body;
            _rest = rest;
            Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_body.AsMemory(0, 1));
            await stream.FlushAsync();
            await _rest;
            await stream.WriteAsync(_body.AsMemory(1));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return true;
        }
    }
}
