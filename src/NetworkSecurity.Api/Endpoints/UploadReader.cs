using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// Reads an uploaded CSV (multipart field "file", or a text/csv body) into memory without ever holding more than the
/// configured limit: a larger upload is refused as soon as it crosses the limit.
/// </summary>
public static class UploadReader
{
    private const int ReadBufferSize = 81920;

    // RFC 2046: a boundary is 1 to 70 characters. MultipartReader itself throws ArgumentOutOfRangeException (a 500)
    // for one longer than its buffer.
    private const int MaxBoundaryLength = 70;

    public sealed class TooLargeException(long limit) : Exception($"The upload exceeds the limit of {limit:N0} bytes.");

    public sealed class MissingFileException() : Exception("The multipart form has no field named 'file'.");

    /// <summary>The file part is compressed or encoded (gzip, base64): answered 415 like a body's Content-Encoding.</summary>
    public sealed class UnsupportedCodingException(string message) : Exception(message);

    /// <summary>The bytes of the large uploads in flight leave no room for this one (Api:MaxUploadBytesInFlight).</summary>
    public sealed class InFlightBudgetException() : Exception("The large uploads in flight hold as many bytes as allowed.");

    /// <summary>The file part declares a charset other than UTF-8.</summary>
    public sealed class UnsupportedCharsetException(string message) : Exception(message);

    public static bool IsMultipart(string? contentType) => MediaType(contentType).Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>text/csv, or what clients send for a CSV file: application/csv, text/plain.</summary>
    public static bool IsCsv(string? contentType) => MediaType(contentType) is var type
        && (type.Equals("text/csv", StringComparison.OrdinalIgnoreCase)
            || type.Equals("application/csv", StringComparison.OrdinalIgnoreCase)
            || type.Equals("text/plain", StringComparison.OrdinalIgnoreCase));

    // The type/subtype before any parameter ("text/csv; charset=utf-8" → "text/csv"): "text/csvx" is not CSV.
    private static string MediaType(string? contentType) =>
        contentType is null ? "" : contentType.AsSpan(0, contentType.IndexOf(';') is var semicolon and >= 0 ? semicolon : contentType.Length).Trim().ToString();

    /// <summary>Returns the CSV bytes and a name for messages (the uploaded file name, or "request body").</summary>
    /// <exception cref="InvalidDataException">The multipart body is malformed (boundary missing or wrong, body cut short).</exception>
    /// <exception cref="BadHttpRequestException">The server refused the body (e.g. larger than Kestrel's limit).</exception>
    /// <exception cref="InFlightBudgetException"><paramref name="mayHold"/> refused the bytes the body needs.</exception>
    /// <param name="mayHold">Asked before the buffer grows, with the bytes it would hold (the announced length first).</param>
    public static async Task<(MemoryStream Content, string Name)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken, Func<long, bool>? mayHold = null)
    {
        if (request.ContentLength > limit)
        {
            throw new TooLargeException(limit);
        }

        // Refused before a byte is read when the announced body does not fit.
        if (request.ContentLength is { } announced && mayHold?.Invoke(announced) == false)
        {
            throw new InFlightBudgetException();
        }

        // The buffer grows with the bytes that arrived, up to what Content-Length announced: sized from Content-Length up
        // front (4 MB at most), 200 connections announcing 50 MB and sending 300 bytes a second held 800 MB of heap, and
        // under a 512 MB heap limit (a container's) every upload failed with OutOfMemoryException (a 500).
        var expected = Math.Min(request.ContentLength ?? limit, limit);
        if (!IsMultipart(request.ContentType))
        {
            return (await CopyAsync(request.Body, limit, expected, mayHold, cancellationToken).ConfigureAwait(false), "request body");
        }

        var boundary = MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ? HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value : null;
        if (string.IsNullOrEmpty(boundary))
        {
            throw new InvalidDataException("The multipart request has no boundary.");
        }

        if (boundary.Length > MaxBoundaryLength)
        {
            throw new InvalidDataException($"The multipart boundary is {boundary.Length:N0} characters long; at most {MaxBoundaryLength} are allowed (RFC 2046).");
        }

        (MemoryStream Content, string Name)? file = null;
        string? unreadable = null; // a part whose Content-Disposition does not parse: perhaps the file, named wrongly
        try
        {
            var reader = new MultipartReader(boundary, request.Body);
            while (await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    unreadable ??= section.ContentDisposition ?? "(none)";
                    continue;
                }

                if (!disposition.Name.Equals("file", StringComparison.OrdinalIgnoreCase))
                {
                    continue; // other form fields are read past, not kept
                }

                // A part's own coding is not undone here: gzip or base64 bytes read as CSV gave "missing columns".
                if (PartCodingProblem(section) is { } coding)
                {
                    throw new UnsupportedCodingException(coding);
                }

                // A second file would otherwise be dropped without a word, and its records with it.
                if (file is not null)
                {
                    throw new InvalidDataException("The multipart form has more than one field named 'file': send one CSV per request.");
                }

                if (RequestEncoding.CharsetProblem(section.ContentType, "the uploaded file") is { } charsetProblem)
                {
                    throw new UnsupportedCharsetException(charsetProblem);
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                file = (await CopyAsync(section.Body, limit, expected, mayHold, cancellationToken).ConfigureAwait(false), string.IsNullOrEmpty(name) ? "uploaded file" : Path.GetFileName(name));
            }
        }
        catch (IOException ex) when (ex is not BadHttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            // MultipartReader reports a body that does not match its boundary, or ends before the closing boundary, as IOException,
            // in words meant for ASP.NET's developers ("Unexpected end of Stream, the content may have already been read by
            // another component."): said here, without them.
            throw new InvalidDataException("The multipart body is malformed: it does not match the boundary in Content-Type or ends before the closing boundary.", ex);
        }

        return file ?? throw (unreadable switch
        {
            null => new MissingFileException(),
            "(none)" => new InvalidDataException("A part of the multipart form has no Content-Disposition header; the file goes in a part with Content-Disposition: form-data; name=\"file\"; filename=\"data.csv\"."),
            _ => new InvalidDataException($"A part of the multipart form has a Content-Disposition that does not parse ('{unreadable}'); quote a file name with spaces or brackets: form-data; name=\"file\"; filename=\"my file.csv\"."),
        });
    }

    // Content-Encoding other than identity, or Content-Transfer-Encoding other than 7bit, 8bit or binary (RFC 7578 4.7).
    private static string? PartCodingProblem(MultipartSection section)
    {
        var encoding = section.Headers?.TryGetValue("Content-Encoding", out var e) == true ? e.ToString().Trim() : "";
        if (encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return $"The uploaded file's Content-Encoding '{encoding}' is not supported: send the CSV as it is.";
        }

        var transfer = section.Headers?.TryGetValue("Content-Transfer-Encoding", out var t) == true ? t.ToString().Trim() : "";
        return transfer.Length > 0 && !(transfer.Equals("7bit", StringComparison.OrdinalIgnoreCase) || transfer.Equals("8bit", StringComparison.OrdinalIgnoreCase) || transfer.Equals("binary", StringComparison.OrdinalIgnoreCase))
            ? $"The uploaded file's Content-Transfer-Encoding '{transfer}' is not supported: send the CSV as it is (binary)."
            : null;
    }

    /// <summary>A buffer for a body of <paramref name="expected"/> bytes (announced, else the limit), small until bytes arrive.</summary>
    internal static MemoryStream NewBuffer(long expected) => new((int)Math.Min(expected, ReadBufferSize));

    /// <summary>
    /// Room for <paramref name="needed"/> bytes: fourfold growth (fewer copies left behind than doubling) toward
    /// <paramref name="expected"/>, never past it while the body keeps to it, so a 49 MB upload takes 49 MB.
    /// </summary>
    /// <exception cref="InFlightBudgetException"><paramref name="mayHold"/> refused the grown buffer's bytes.</exception>
    internal static void EnsureRoom(MemoryStream target, long needed, long expected, Func<long, bool>? mayHold = null)
    {
        if (needed > target.Capacity)
        {
            var capacity = Math.Max(needed, Math.Min(target.Capacity * 4L, Math.Max(expected, needed)));
            if (mayHold?.Invoke(capacity) == false)
            {
                throw new InFlightBudgetException();
            }

            target.Capacity = (int)capacity;
        }
    }

    private static async Task<MemoryStream> CopyAsync(Stream source, long limit, long expected, Func<long, bool>? mayHold, CancellationToken cancellationToken)
    {
        var buffer = new byte[ReadBufferSize];
        var target = NewBuffer(expected);
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var needed = target.Length + read;
            if (needed > limit)
            {
                throw new TooLargeException(limit);
            }

            EnsureRoom(target, needed, expected, mayHold);
            target.Write(buffer, 0, read);
        }

        target.Position = 0;
        return target;
    }
}
