using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.S3.Model;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Storage.Tests;

/// <summary>The replicas' shared job records against a real S3-compatible server.</summary>
public sealed class S3JobBoardTests(S3rverFixture server) : IClassFixture<S3rverFixture>
{
    private static string Id(int n) => n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_record_is_read_back_as_written_with_the_stores_time_and_a_missing_one_is_null()
    {
        var options = server.Options(await server.NewBucketAsync('j'), "ns/");
        using var board = new S3JobBoard(options);
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);
        await board.WriteAsync(Id(1), Encoding.UTF8.GetBytes("""{"id":"1"}"""), CancellationToken.None);
        await board.WriteAsync(Id(1), Encoding.UTF8.GetBytes("""{"id":"one"}"""), CancellationToken.None); // the last write wins

        var stored = await board.ReadAsync(Id(1), CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal("""{"id":"one"}""", Encoding.UTF8.GetString(stored.Json));
        Assert.InRange(stored.LastModified, before, DateTimeOffset.UtcNow.AddSeconds(2));
        Assert.Null(await board.ReadAsync(Id(2), CancellationToken.None));
        Assert.Equal($"s3://{options.Bucket}/ns/jobs/", board.Location);
        using var client = server.Client();
        Assert.Equal(["ns/jobs/" + Id(1) + ".json"], (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket })).S3Objects.Select(o => o.Key));
    }

    [Theory]
    [InlineData("../final_model/LATEST")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")] // ids are lower case
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("")]
    public async Task Anything_but_a_job_id_is_never_turned_into_a_key(string id)
    {
        var options = server.Options(await server.NewBucketAsync('j'), "ns/");
        using var board = new S3JobBoard(options);
        Assert.False(S3JobBoard.IsJobId(id));
        Assert.Null(await board.ReadAsync(id, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => board.WriteAsync(id, [], CancellationToken.None));
    }

    [Fact]
    public async Task Pruning_keeps_the_most_recently_written_records_and_leaves_other_objects_alone()
    {
        var options = server.Options(await server.NewBucketAsync('j'), "ns/");
        using var board = new S3JobBoard(options);
        using var client = server.Client();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = "ns/jobs/notes.txt", ContentBody = "mine", UseChunkEncoding = false });
        for (var n = 1; n <= 4; n++)
        {
            await board.WriteAsync(Id(n), Encoding.UTF8.GetBytes("{}"), CancellationToken.None);
            await Task.Delay(1100); // the store's times have whole seconds
        }

        Assert.Equal(2, await board.PruneAsync(2, CancellationToken.None));
        var left = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket })).S3Objects.Select(o => o.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["ns/jobs/" + Id(3) + ".json", "ns/jobs/" + Id(4) + ".json", "ns/jobs/notes.txt"], left);
        Assert.Equal(0, await board.PruneAsync(2, CancellationToken.None));
    }

    [Fact]
    public async Task A_record_whose_body_ends_before_its_length_is_read_again_not_reported_as_the_store_failing()
    {
        // A store that cuts the first answer short, as s3rver does when a record is read while its owner rewrites it.
        var record = Encoding.UTF8.GetBytes("""{"id":"whole record"}""");
        using var listener = new TcpListener(IPAddress.Loopback, TestPorts.ForServer());
        listener.Start();
        var answered = 0;
        var serving = Task.Run(async () =>
        {
            while (answered < 2)
            {
                using var client = await listener.AcceptTcpClientAsync();
                await using var stream = client.GetStream();
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        break;
                    }

                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                var head = $"HTTP/1.1 206 Partial Content\r\nContent-Type: application/json\r\nContent-Length: {record.Length}\r\nContent-Range: bytes 0-{record.Length - 1}/{record.Length}\r\n"
                    + $"Last-Modified: {DateTime.UtcNow:R}\r\nDate: {DateTime.UtcNow:R}\r\nETag: \"e\"\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                await stream.WriteAsync(answered++ == 0 ? record.AsMemory(0, 5) : record); // the first body is cut short
            }
        });
        var options = server.Options("bucket") with { ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}" };
        using var board = new S3JobBoard(options);

        var stored = await board.ReadAsync(Id(7), CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Equal("""{"id":"whole record"}""", Encoding.UTF8.GetString(stored.Json));
        Assert.Equal(2, answered);
        await serving.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task An_empty_record_is_read_as_empty_at_once_not_waited_for()
    {
        // What a replica's write cut off by its own shutdown left in s3rver: an object of 0 bytes, whose range s3rver
        // answers with a length of 1 and no body.
        var options = server.Options(await server.NewBucketAsync('j'), "ns/");
        using var board = new S3JobBoard(options);
        await board.WriteAsync(Id(3), [], CancellationToken.None);

        var stored = await board.ReadAsync(Id(3), CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Empty(stored.Json);
    }
}
