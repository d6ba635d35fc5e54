using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using NetworkSecurity.MongoDb.Native;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>
/// A MongoDB wire-protocol server for tests (no MongoDB server can be installed here), on 127.0.0.1 and a free port.
/// It answers what libmongoc 1.23 sends: the OP_QUERY handshake and heartbeats (OP_REPLY), and OP_MSG commands
/// insert, find, getMore, killCursors, aggregate (count), drop, ping, endSessions, hello. Documents are kept in
/// memory; BSON is decoded and encoded with libbson. <see cref="RequireAuthentication"/> makes it refuse SASL logins.
/// </summary>
public sealed class WireProtocolServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, List<JsonObject>> _collections = new();
    private readonly ConcurrentDictionary<long, Queue<JsonObject>> _cursors = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private long _nextCursor = 1000;
    private int _nextRequest = 1;
    private int _connectionId;

    public WireProtocolServer()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public string ConnectionString => $"mongodb://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public bool RequireAuthentication { get; set; }

    public ConcurrentQueue<string> Commands { get; } = new();

    public IReadOnlyList<JsonObject> Documents(string database, string collection) =>
        _collections.TryGetValue($"{database}.{collection}", out var docs) ? docs : [];

    public void Insert(string database, string collection, params string[] json)
    {
        var docs = _collections.GetOrAdd($"{database}.{collection}", _ => []);
        lock (docs)
        {
            docs.AddRange(json.Select(j => (JsonObject)JsonNode.Parse(j)!));
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _connections.Add(ServeAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var header = new byte[16];
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    await stream.ReadExactlyAsync(header, _stop.Token);
                    var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                    var requestId = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                    var opCode = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
                    var body = new byte[length - 16];
                    await stream.ReadExactlyAsync(body, _stop.Token);
                    var reply = opCode switch
                    {
                        2004 => HandleQuery(body, requestId),
                        2013 => HandleMessage(body, requestId),
                        _ => null,
                    };
                    if (reply is not null)
                    {
                        await stream.WriteAsync(reply, _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    // OP_QUERY: flags, cstring collection, skip, return, query document → OP_REPLY with one document.
    private byte[] HandleQuery(byte[] body, int requestId)
    {
        var nameEnd = Array.IndexOf(body, (byte)0, 4);
        var query = ReadDocument(body, nameEnd + 1 + 8, out _);
        var command = query.Select(p => p.Key).First();
        Commands.Enqueue(command);
        var reply = Hello();
        var document = Encode(reply);
        var message = new byte[16 + 20 + document.Length];
        WriteHeader(message, requestId, 1);
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(20), 0); // flags (int32 at 16) stays 0; cursor id
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(28), 0);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(32), 1);
        document.CopyTo(message, 36);
        return message;
    }

    // OP_MSG: flags, then sections (kind 0: one document; kind 1: size, identifier, documents).
    private byte[]? HandleMessage(byte[] body, int requestId)
    {
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var end = (flags & 1) != 0 ? body.Length - 4 : body.Length; // checksum present
        JsonObject? command = null;
        var sequences = new Dictionary<string, List<JsonObject>>();
        for (var offset = 4; offset < end;)
        {
            var kind = body[offset++];
            if (kind == 0)
            {
                command = ReadDocument(body, offset, out var size);
                offset += size;
            }
            else
            {
                var sectionSize = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(offset));
                var nameEnd = Array.IndexOf(body, (byte)0, offset + 4);
                var identifier = Encoding.UTF8.GetString(body, offset + 4, nameEnd - offset - 4);
                var documents = new List<JsonObject>();
                for (var position = nameEnd + 1; position < offset + sectionSize;)
                {
                    documents.Add(ReadDocument(body, position, out var size));
                    position += size;
                }

                sequences[identifier] = documents;
                offset += sectionSize;
            }
        }

        var reply = Execute(command!, sequences);
        if ((flags & 2) != 0)
        {
            return null; // moreToCome: no reply expected
        }

        var document = Encode(reply);
        var message = new byte[16 + 4 + 1 + document.Length];
        WriteHeader(message, requestId, 2013);
        message[20] = 0;
        document.CopyTo(message, 21);
        return message;
    }

    private JsonObject Execute(JsonObject command, Dictionary<string, List<JsonObject>> sequences)
    {
        var name = command.Select(p => p.Key).First();
        Commands.Enqueue(name);
        var database = command["$db"]?.GetValue<string>() ?? "admin";
        switch (name)
        {
            case "hello" or "isMaster" or "ismaster":
                return Hello();
            case "ping" or "endSessions":
                return Ok();
            case "saslStart" or "saslContinue":
                return Error(18, "AuthenticationFailed", "Authentication failed.");
            case "insert":
            {
                if (RequireAuthentication)
                {
                    return Error(13, "Unauthorized", "command insert requires authentication");
                }

                var documents = sequences.GetValueOrDefault("documents") ?? command["documents"]?.AsArray().Select(d => (JsonObject)d!.DeepClone()).ToList() ?? [];
                var target = _collections.GetOrAdd($"{database}.{command["insert"]!.GetValue<string>()}", _ => []);
                lock (target)
                {
                    target.AddRange(documents);
                }

                return Ok(new JsonObject { ["n"] = documents.Count });
            }

            case "find":
            {
                var ns = $"{database}.{command["find"]!.GetValue<string>()}";
                var all = _collections.TryGetValue(ns, out var docs) ? Snapshot(docs) : [];
                var batch = BatchSize(command, 101);
                var queue = new Queue<JsonObject>(all);
                var first = Take(queue, batch);
                long id = 0;
                if (queue.Count > 0)
                {
                    id = Interlocked.Increment(ref _nextCursor);
                    _cursors[id] = queue;
                }

                return Ok(new JsonObject { ["cursor"] = new JsonObject { ["id"] = Long(id), ["ns"] = ns, ["firstBatch"] = first } });
            }

            case "getMore":
            {
                var id = (long)Number(command["getMore"]!);
                var ns = $"{database}.{command["collection"]!.GetValue<string>()}";
                if (!_cursors.TryGetValue(id, out var queue))
                {
                    return Error(43, "CursorNotFound", $"cursor id {id} not found");
                }

                var next = Take(queue, BatchSize(command, 1000));
                if (queue.Count == 0)
                {
                    _cursors.TryRemove(id, out _);
                    id = 0;
                }

                return Ok(new JsonObject { ["cursor"] = new JsonObject { ["id"] = Long(id), ["ns"] = ns, ["nextBatch"] = next } });
            }

            case "killCursors":
                foreach (var cursor in command["cursors"]?.AsArray() ?? [])
                {
                    _cursors.TryRemove((long)Number(cursor!), out _);
                }

                return Ok(new JsonObject { ["cursorsKilled"] = new JsonArray() });
            case "aggregate":
            {
                // count_documents: [{$match: {}}, {$group: {_id: 1, n: {$sum: 1}}}]
                var ns = $"{database}.{command["aggregate"]!.GetValue<string>()}";
                var count = _collections.TryGetValue(ns, out var docs) ? Snapshot(docs).Count : 0;
                var batch = count == 0 ? new JsonArray() : new JsonArray(new JsonObject { ["_id"] = 1, ["n"] = count });
                return Ok(new JsonObject { ["cursor"] = new JsonObject { ["id"] = Long(0), ["ns"] = ns, ["firstBatch"] = batch } });
            }

            case "drop":
                return _collections.TryRemove($"{database}.{command["drop"]!.GetValue<string>()}", out _)
                    ? Ok()
                    : Error(26, "NamespaceNotFound", "ns not found");
            default:
                return Error(59, "CommandNotFound", $"no such command: '{name}'");
        }
    }

    private static List<JsonObject> Snapshot(List<JsonObject> documents)
    {
        lock (documents)
        {
            return [.. documents];
        }
    }

    private static JsonArray Take(Queue<JsonObject> queue, int count)
    {
        var batch = new JsonArray();
        while (queue.Count > 0 && batch.Count < count)
        {
            batch.Add(queue.Dequeue().DeepClone());
        }

        return batch;
    }

    private static int BatchSize(JsonObject command, int fallback) => command["batchSize"] is { } size ? (int)Number(size) : fallback;

    /// <summary>A number in canonical Extended JSON ({"$numberInt": "5"}, {"$numberLong": …}, {"$numberDouble": …}) or plain.</summary>
    private static double Number(JsonNode node)
    {
        var text = node is JsonObject wrapped ? wrapped.Select(p => p.Value!.GetValue<string>()).First() : node.ToString();
        return double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private JsonObject Hello() => new()
    {
        ["helloOk"] = true,
        ["ismaster"] = true,
        ["isWritablePrimary"] = true,
        ["maxBsonObjectSize"] = 16777216,
        ["maxMessageSizeBytes"] = 48000000,
        ["maxWriteBatchSize"] = 100000,
        ["localTime"] = new JsonObject { ["$date"] = new JsonObject { ["$numberLong"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) } },
        ["logicalSessionTimeoutMinutes"] = 30,
        ["connectionId"] = Interlocked.Increment(ref _connectionId),
        ["minWireVersion"] = 0,
        ["maxWireVersion"] = 17,
        ["saslSupportedMechs"] = new JsonArray("SCRAM-SHA-256", "SCRAM-SHA-1"),
        ["ok"] = new JsonObject { ["$numberDouble"] = "1.0" },
    };

    private static JsonObject Ok(JsonObject? fields = null)
    {
        var reply = fields ?? [];
        reply["ok"] = new JsonObject { ["$numberDouble"] = "1.0" };
        return reply;
    }

    private static JsonObject Error(int code, string codeName, string message) => new()
    {
        ["ok"] = new JsonObject { ["$numberDouble"] = "0.0" },
        ["errmsg"] = message,
        ["code"] = code,
        ["codeName"] = codeName,
    };

    private static JsonObject Long(long value) => new() { ["$numberLong"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private void WriteHeader(byte[] message, int responseTo, int opCode)
    {
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), Interlocked.Increment(ref _nextRequest));
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), responseTo);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), opCode);
    }

    private static JsonObject ReadDocument(byte[] data, int offset, out int size)
    {
        size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
        using var bson = Bson.FromBytes(data[offset..(offset + size)]);
        return (JsonObject)JsonNode.Parse(bson.ToCanonicalJson())!;
    }

    private static byte[] Encode(JsonObject document)
    {
        using var bson = Bson.FromJson(document.ToJsonString());
        return bson.ToBytes();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
    }
}
