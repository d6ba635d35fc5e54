using System.Net;
using System.Runtime.CompilerServices;
using System.Net.Sockets;
using System.Text;

namespace NetworkSecurity.Storage.Tests.Replication;

public enum ProxyMode
{
    /// <summary>Pass every connection through to the store.</summary>
    Forward,

    /// <summary>Close connections at once, as a store that is down.</summary>
    Refuse,

    /// <summary>Answer every request with a 500 whose body is not S3's XML.</summary>
    Garbage,
}

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of the S3 test server that can play an outage or answer garbage, or let a test act
/// before a request is passed on (<see cref="BeforeRequest"/>).
/// </summary>
public sealed class FaultyProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, TestPorts.ForServer());
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();

    public FaultyProxy(string target)
    {
        _target = new Uri(target);
        _listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = AcceptAsync();
    }

    public string Endpoint { get; }

    private CancellationTokenSource _connections = new();

    public ProxyMode Mode { get; private set; } = ProxyMode.Forward;

    /// <summary>
    /// When set, awaited in <see cref="ProxyMode.Forward"/> with each request's line ("GET /bucket/key HTTP/1.1") before
    /// the request is passed on: a test acts between a client's requests at a known point, not after a guessed delay.
    /// Its answer cuts the store's response after that many bytes of its body (the connection then closed, as a store's
    /// that ends a body early), or passes it whole (null). Set it before the connections it applies to are opened.
    /// </summary>
    public Func<string, Task<int?>>? BeforeRequest { get; set; }

    /// <summary>Switches mode and drops every open connection (clients pool them), so the change applies at once.</summary>
    public void Set(ProxyMode mode)
    {
        Mode = mode;
        var old = Interlocked.Exchange(ref _connections, new CancellationTokenSource());
        old.Cancel();
        old.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                switch (Mode)
                {
                    case ProxyMode.Refuse:
                        client.Client.LingerState = new LingerOption(true, 0); // reset, not a clean close
                        return;
                    case ProxyMode.Garbage:
                        var stream = client.GetStream();
                        var buffer = new byte[8192];
                        _ = await stream.ReadAsync(buffer, _stop.Token); // the request head (bodies of small PUTs fit too)
                        var junk = "<<garbage, not S3>>"u8.ToArray();
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\nContent-Length: {junk.Length}\r\nConnection: close\r\n\r\n"), _stop.Token);
                        await stream.WriteAsync(junk, _stop.Token);
                        return;
                }

                using var server = new TcpClient();
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _connections.Token);
                await server.ConnectAsync(_target.Host, _target.Port, connection.Token);
                Task up, down;
                if (BeforeRequest is { } hook)
                {
                    var cut = new StrongBox<int>(-1);
                    up = ForwardRequestsAsync(client.GetStream(), server.GetStream(), hook, cut, connection.Token);
                    down = ForwardResponsesAsync(server.GetStream(), client.GetStream(), cut, connection.Token);
                }
                else
                {
                    up = client.GetStream().CopyToAsync(server.GetStream(), connection.Token);
                    down = server.GetStream().CopyToAsync(client.GetStream(), connection.Token);
                }

                await Task.WhenAny(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A connection torn down on either side: nothing to do.
            }
        }
    }

    // One request at a time, as HTTP/1.1 clients send them on a connection: its head, then the Content-Length bytes of its
    // body (no chunked bodies: the S3 client sends none to s3rver).
    private static async Task ForwardRequestsAsync(Stream from, Stream to, Func<string, Task<int?>> hook, StrongBox<int> cut, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            int end;
            while ((end = HeadEnd(buffer, count)) < 0)
            {
                if (count == buffer.Length)
                {
                    throw new InvalidDataException("A request head of more than 64 KiB");
                }

                var read = await from.ReadAsync(buffer.AsMemory(count), cancellationToken);
                if (read == 0)
                {
                    return;
                }

                count += read;
            }

            var head = Encoding.ASCII.GetString(buffer, 0, end);
            var lines = head.Split("\r\n");
            if (lines.Any(l => l.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase)))
            {
                throw new NotSupportedException("A chunked request body: " + lines[0]);
            }

            var length = lines.Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Select(l => long.Parse(l["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
            if (await hook(lines[0]) is { } bodyBytes)
            {
                cut.Value = bodyBytes; // before the request goes on, so before its response can come back
            }

            // The head, then the body: what has come of it already, the rest as it comes.
            var inBuffer = (int)Math.Min(length, count - end);
            await to.WriteAsync(buffer.AsMemory(0, end + inBuffer), cancellationToken);
            Buffer.BlockCopy(buffer, end + inBuffer, buffer, 0, count - end - inBuffer);
            count -= end + inBuffer;
            for (var left = length - inBuffer; left > 0;)
            {
                var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(left, buffer.Length)), cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                left -= read;
            }
        }
    }

    // Passed as they come, but a response to cut (see BeforeRequest) ends after its head and that many bytes of its body.
    private static async Task ForwardResponsesAsync(Stream from, Stream to, StrongBox<int> cut, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            var read = await from.ReadAsync(buffer.AsMemory(count), cancellationToken);
            if (read == 0)
            {
                return;
            }

            if (cut.Value < 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                continue;
            }

            // The response to cut: everything that came before it has already reached the client, which sent the request.
            count += read;
            if (HeadEnd(buffer, count) is var end and >= 0 && count >= end + cut.Value)
            {
                await to.WriteAsync(buffer.AsMemory(0, end + cut.Value), cancellationToken);
                await to.FlushAsync(cancellationToken);
                return; // the connection is closed
            }
        }
    }

    private static int HeadEnd(byte[] buffer, int count)
    {
        var at = buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8);
        return at < 0 ? -1 : at + 4;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
        _connections.Dispose();
    }
}
