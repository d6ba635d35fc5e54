using Microsoft.AspNetCore.Http;
using NetworkSecurity.Api.Endpoints;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The upload buffer grows with the bytes that arrive, not with what Content-Length announces: 4 MB up front per
/// request let slow senders announcing 50 MB hold 800 MB of heap with 200 connections (every upload then failed under
/// a 512 MB heap limit).
/// </summary>
public sealed class UploadReaderTests
{
    private const long Limit = 50L * 1024 * 1024;

    private static async Task<MemoryStream> ReadAsync(byte[] body, long? contentLength)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "text/csv";
        context.Request.ContentLength = contentLength;
        context.Request.Body = new MemoryStream(body);
        var (content, name) = await UploadReader.ReadAsync(context.Request, Limit, CancellationToken.None);
        Assert.Equal("request body", name);
        Assert.Equal(body, content.ToArray());
        return content;
    }

    [Fact]
    public async Task A_body_that_announces_more_than_it_sends_holds_about_what_it_sent()
    {
        using var content = await ReadAsync(new byte[100], contentLength: 49L * 1024 * 1024);
        Assert.InRange(content.Capacity, 100, 128 * 1024);
    }

    [Fact]
    public async Task A_body_of_its_announced_length_is_held_in_that_many_bytes_not_the_next_doubling()
    {
        var body = new byte[5_000_000];
        Random.Shared.NextBytes(body);
        using var content = await ReadAsync(body, body.Length);
        Assert.Equal(body.Length, content.Capacity);
    }

    [Fact]
    public async Task A_body_without_a_length_is_held_in_at_most_four_times_its_bytes()
    {
        var body = new byte[5_000_000];
        using var content = await ReadAsync(body, contentLength: null);
        Assert.InRange(content.Capacity, body.Length, 4 * body.Length);
    }

    [Fact]
    public void The_json_body_buffer_starts_small_and_grows_with_what_arrives_up_to_the_announced_size()
    {
        // POST /predict/json copied a body that came in several reads into 1 MB up front: 600 slow senders announcing
        // 16 MB ran a 512 MB heap out (500s with OutOfMemoryException for everyone else).
        const long announced = 16L * 1024 * 1024;
        using var buffer = UploadReader.NewBuffer(announced);
        UploadReader.EnsureRoom(buffer, 300, announced);
        Assert.InRange(buffer.Capacity, 300, 128 * 1024);

        UploadReader.EnsureRoom(buffer, 5_000_000, announced);
        Assert.InRange(buffer.Capacity, 5_000_000, announced);
        UploadReader.EnsureRoom(buffer, announced, announced);
        Assert.Equal(announced, buffer.Capacity);
    }
}
