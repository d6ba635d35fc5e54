using System.Net;
using System.Net.Sockets;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>A DNS server on 127.0.0.1 that answers every query with NXDOMAIN ("no such name").</summary>
public sealed class LoopbackDnsServer : IDisposable
{
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _queries;

    public LoopbackDnsServer() => _loop = Task.Run(ServeAsync);

    public string EndPoint => _socket.Client.LocalEndPoint!.ToString()!;

    public int Queries => Volatile.Read(ref _queries);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult query;
            try
            {
                query = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _queries);
            var answer = query.Buffer.ToArray();
            if (answer.Length < 12)
            {
                continue;
            }

            answer[2] |= 0x80; // QR: a response, same id and question
            answer[3] = (byte)((answer[3] & 0x70) | 0x80 | 3); // RA, RCODE 3 = NXDOMAIN
            answer[6] = answer[7] = answer[8] = answer[9] = answer[10] = answer[11] = 0; // no records (EDNS dropped)
            var questionEnd = QuestionEnd(answer);
            await _socket.SendAsync(answer.AsMemory(0, questionEnd), query.RemoteEndPoint);
        }
    }

    // Header (12 bytes) + one question: the name's labels, a zero byte, type and class.
    private static int QuestionEnd(byte[] message)
    {
        var i = 12;
        while (i < message.Length && message[i] != 0)
        {
            i += message[i] + 1;
        }

        return Math.Min(message.Length, i + 5);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
