using System.Net;
using System.Net.Sockets;

namespace NetworkSecurity.Storage.Tests;

/// <summary>
/// Ports for what the tests start (s3rver, service processes). Any free port by default; on a machine shared with other
/// test runs, NETWORKSECURITY_TEST_PORTS=18110-18149 keeps them inside that range.
/// </summary>
internal static class TestPorts
{
    public const string Variable = "NETWORKSECURITY_TEST_PORTS";
    // Where this process starts in the range: each test assembly runs in a process of its own, and all starting at the
    // range's beginning they handed out the same ports, one taken by a server of the other assembly still starting up.
    private static int _next = Random.Shared.Next();

    /// <summary>For a server that picks its own port when given 0 (s3rver's -p 0): 0 unless a range is set.</summary>
    public static int ForServer() => Range() is null ? 0 : Free();

    /// <summary>A port free right now: from the range when one is set, else one the system picks.</summary>
    public static int Free()
    {
        if (Range() is not { } range)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var count = range.Last - range.First + 1;
        for (var tried = 0; tried < count; tried++)
        {
            var port = range.First + (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: the next one.
            }
        }

        throw new InvalidOperationException($"{Variable}={Environment.GetEnvironmentVariable(Variable)}: no free port in the range.");
    }

    private static (int First, int Last)? Range()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        return parts.Length == 2 && int.TryParse(parts[0], out var first) && int.TryParse(parts[1], out var last) && first is > 0 and <= 65535 && last >= first && last <= 65535
            ? (first, last)
            : throw new InvalidOperationException($"{Variable}='{text}' is not a port range such as 18110-18149.");
    }
}
