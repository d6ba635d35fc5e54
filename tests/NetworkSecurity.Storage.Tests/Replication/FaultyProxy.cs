using System.Net;
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

/// <summary>A TCP proxy on 127.0.0.1 in front of the S3 test server that can play an outage or answer garbage.</summary>
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
                var up = client.GetStream().CopyToAsync(server.GetStream(), connection.Token);
                var down = server.GetStream().CopyToAsync(client.GetStream(), connection.Token);
                await Task.WhenAny(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A connection torn down on either side: nothing to do.
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
        _connections.Dispose();
    }
}
