using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// Bodies are read as UTF-8 and uncompressed. A body that says otherwise (a charset such as iso-8859-1 or utf-16, a
/// Content-Encoding such as gzip, a UTF-16 byte order mark) is refused with 415 naming what was sent, instead of being
/// misread as UTF-8 and answered with replacement characters or a misleading "columns missing".
/// </summary>
public static class RequestEncoding
{
    /// <summary>Null when the request's Content-Encoding and charset are ones the endpoints read.</summary>
    public static ProblemHttpResult? Check(HttpRequest request)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        if (encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Unsupported($"Content-Encoding '{encoding}' is not supported: send the body uncompressed.");
        }

        // Kestrel undoes only chunked: "Transfer-Encoding: gzip, chunked" reached the endpoints as compressed bytes, read
        // as a CSV of one odd column ("expected comma- or tab-separated columns").
        var transfer = request.Headers.TransferEncoding.ToString();
        foreach (var coding in transfer.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!coding.Equals("chunked", StringComparison.OrdinalIgnoreCase) && !coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                return Unsupported($"Transfer-Encoding '{transfer.Trim()}' is not supported: send the body uncompressed (chunked alone is fine).");
            }
        }

        return CharsetProblem(request.ContentType, "the request") is { } problem ? Unsupported(problem) : null;
    }

    /// <summary>Why a declared charset cannot be read (only UTF-8 and its subset US-ASCII can), or null.</summary>
    public static string? CharsetProblem(string? contentType, string what)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            return null;
        }

        // Every charset parameter, not the first alone: "charset=utf-8; charset=iso-8859-1" was read as UTF-8.
        string? charset = null;
        foreach (var parameter in mediaType.Parameters)
        {
            if (!parameter.Name.Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = HeaderUtilities.RemoveQuotes(parameter.Value).Value?.Trim() ?? "";
            if (charset is not null && !charset.Equals(value, StringComparison.OrdinalIgnoreCase))
            {
                return $"The Content-Type of {what} names more than one charset ('{charset}' and '{value}'): name one, UTF-8.";
            }

            charset = value;
        }

        return string.IsNullOrEmpty(charset) || ReadableCharsets.Contains(charset)
            ? null
            : $"The charset '{charset}' of {what} is not supported: send UTF-8.";
    }

    // UTF-8, and US-ASCII (a subset of it) under its registered names (IANA): charset=ascii is as readable as us-ascii.
    private static readonly HashSet<string> ReadableCharsets = new(StringComparer.OrdinalIgnoreCase)
    {
        "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "ibm367", "cp367", "csascii",
    };

    /// <summary>
    /// A body that starts with a UTF-16 or UTF-32 byte order mark: 415, as a declared charset=utf-16 is (a UTF-16 CSV, as
    /// a spreadsheet's "Unicode Text" saves it, was decoded by its mark; UTF-16 JSON was "not valid JSON"). Null otherwise.
    /// </summary>
    public static ProblemHttpResult? ForeignByteOrderMark(ReadOnlySequence<byte> body, string what, bool csv)
    {
        Span<byte> head = stackalloc byte[4];
        var length = (int)Math.Min(body.Length, head.Length);
        body.Slice(0, length).CopyTo(head);
        return Utf8Text.ForeignByteOrderMark(head[..length]) is { } encoding
            ? Unsupported($"{what} starts with a {encoding} byte order mark: it is {encoding.Split(' ')[0]} text, which is not read; send UTF-8{(csv ? " (a spreadsheet's 'CSV UTF-8')" : "")}.")
            : null;
    }

    public static ProblemHttpResult Unsupported(string detail) =>
        TypedResults.Problem(title: "Unsupported encoding", detail: detail, statusCode: StatusCodes.Status415UnsupportedMediaType);
}
