using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>
/// A MongoDB wire-protocol server for tests (no MongoDB server can be installed here), on 127.0.0.1 and a free port.
/// It answers what MongoDB.Driver 3.x sends: the legacy isMaster handshake over OP_QUERY (OP_REPLY), then OP_MSG
/// commands hello, ping, insert (kind-1 document sequences, write errors per document), find (projection, sort on
/// top-level fields, limit, batchSize), getMore, killCursors, aggregate (the CountDocuments pipeline), count, listCollections (type and
/// options), update and delete (top-level equality filters; $set, $setOnInsert, $currentDate; upsert), create, listIndexes, createIndexes, renameCollection (dropTarget), drop, endSessions; SASL logins are refused. It advertises wire version 17 (MongoDB 6.0) as a standalone server, without
/// topologyVersion (no streaming hello), setName (no replica set) or compression. Documents are kept in memory.
/// Hooks: <see cref="RequireAuthentication"/>, <see cref="Reject"/> (per-document write errors), <see cref="Insert"/>,
/// <see cref="Stall"/> (a server that stops answering).
/// </summary>
public sealed class WireProtocolServer : IAsyncDisposable
{
    private const int OpReply = 1;
    private const int OpQuery = 2004;
    private const int OpMsg = 2013;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, List<BsonDocument>> _collections = new();
    private readonly ConcurrentDictionary<long, Queue<BsonDocument>> _cursors = new();
    private readonly ConcurrentDictionary<string, CollectionInfo> _info = new();
    private readonly ConditionalWeakTable<List<BsonDocument>, StrongBox<Guid>> _uuids = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accepting;
    private long _nextCursor = 1000;
    private int _nextRequest = 1;
    private int _connectionId;

    public WireProtocolServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string ConnectionString => $"mongodb://127.0.0.1:{Port}";

    /// <summary>When set, data commands need a connection authenticated as one of <see cref="Users"/>.</summary>
    public bool RequireAuthentication { get; set; }

    /// <summary>User name → password, checked with SCRAM-SHA-256 (whether or not authentication is required).</summary>
    public ConcurrentDictionary<string, string> Users { get; } = new();

    /// <summary>Returns a reason to refuse a document (as a write error with code 121, DocumentValidationFailure).</summary>
    public Func<BsonDocument, string?>? Reject { get; set; }

    /// <summary>
    /// Commands executed (an insert stores its documents) but never answered, the connection left open: a server that
    /// stops answering mid-read or mid-insert.
    /// </summary>
    public Func<BsonDocument, bool>? Stall { get; set; }

    /// <summary>A writeConcernError to add to an insert's reply (its documents stored), as w:3 on a single node gives.</summary>
    public Func<BsonDocument, BsonDocument?>? WriteConcernError { get; set; }

    /// <summary>Commands answered with error 166 (CommandNotSupportedOnView), as a view answers count.</summary>
    public ConcurrentDictionary<string, bool> ActsAsView { get; } = new();

    /// <summary>Every command received, in order.</summary>
    public ConcurrentQueue<BsonDocument> Received { get; } = new();

    public IEnumerable<string> Commands => Received.Select(c => c.GetElement(0).Name);

    public IReadOnlyList<BsonDocument> Documents(string database, string collection) =>
        _collections.TryGetValue($"{database}.{collection}", out var docs) ? Snapshot(docs) : [];

    /// <summary>Stores documents given as (relaxed or canonical) Extended JSON directly, bypassing the driver.</summary>
    public void Insert(string database, string collection, params string[] json)
    {
        var docs = _collections.GetOrAdd($"{database}.{collection}", _ => []);
        lock (docs)
        {
            docs.AddRange(json.Select(BsonDocument.Parse));
        }
    }

    /// <summary>Creates a collection (or, with type "view", what listCollections reports as a view) with options.</summary>
    public void Create(string database, string collection, BsonDocument? options = null, string type = "collection")
    {
        _collections.TryAdd($"{database}.{collection}", []);
        _info[$"{database}.{collection}"] = new CollectionInfo(type, options ?? [], []);
    }

    /// <summary>Adds an index (key and name) to a collection, making it if need be, as createIndexes would.</summary>
    public void CreateIndex(string database, string collection, BsonDocument index)
    {
        _collections.TryAdd($"{database}.{collection}", []);
        _info.GetOrAdd($"{database}.{collection}", _ => new CollectionInfo("collection", [], [])).Indexes.Add(index);
    }

    /// <summary>What listCollections and listIndexes would say of a collection: its options and its indexes but _id_.</summary>
    public (string Type, BsonDocument Options, IReadOnlyList<BsonDocument> Indexes)? Info(string database, string collection) =>
        _info.TryGetValue($"{database}.{collection}", out var info) ? (info.Type, info.Options, info.Indexes) : null;

    /// <summary>Every collection name of a database.</summary>
    public IReadOnlyList<string> CollectionNames(string database) =>
        [.. _collections.Keys.Where(k => k.StartsWith(database + ".", StringComparison.Ordinal)).Select(k => k[(database.Length + 1)..]).Order(StringComparer.Ordinal)];

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
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            client.NoDelay = true;
            var stream = client.GetStream();
            var header = new byte[16];
            var session = new Session();
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
                        OpQuery => HandleQuery(body, requestId, session),
                        OpMsg => HandleMessage(body, requestId, session),
                        _ => throw new InvalidDataException($"opcode {opCode} is not supported by the test server"),
                    };
                    if (session.Last is { } last && Stall?.Invoke(last) == true)
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }

                    if (reply is not null)
                    {
                        await stream.WriteAsync(reply, _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is EndOfStreamException or IOException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
            {
            }
        }
    }

    // OP_QUERY: flags, cstring full collection name, skip, return, query document → OP_REPLY with one document.
    // The driver also authenticates (saslStart, saslContinue) over OP_QUERY while the handshake connection is new.
    private byte[] HandleQuery(byte[] body, int requestId, Session session)
    {
        var nameEnd = Array.IndexOf(body, (byte)0, 4);
        var collection = Encoding.UTF8.GetString(body, 4, nameEnd - 4);
        var query = ReadDocument(body, nameEnd + 1 + 8, out _);
        if (query.Contains("$query"))
        {
            query = query["$query"].AsBsonDocument;
        }

        query["$db"] = collection.Split('.')[0];
        var document = Execute(query, [], session).ToBson();
        var message = new byte[16 + 20 + document.Length];
        WriteHeader(message, requestId, OpReply);
        // responseFlags (int32 at 16) 0, cursorID (int64 at 20) 0, startingFrom (int32 at 28) 0, numberReturned 1.
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(32), 1);
        document.CopyTo(message, 36);
        return message;
    }

    // OP_MSG: flags, then sections (kind 0: one document; kind 1: size, identifier, documents), optional checksum.
    private byte[]? HandleMessage(byte[] body, int requestId, Session session)
    {
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var end = (flags & 1) != 0 ? body.Length - 4 : body.Length;
        BsonDocument? command = null;
        var sequences = new Dictionary<string, List<BsonDocument>>();
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
                var documents = new List<BsonDocument>();
                for (var position = nameEnd + 1; position < offset + sectionSize;)
                {
                    documents.Add(ReadDocument(body, position, out var size));
                    position += size;
                }

                sequences[identifier] = documents;
                offset += sectionSize;
            }
        }

        var reply = Execute(command ?? throw new InvalidDataException("OP_MSG without a command document"), sequences, session);
        if ((flags & 2) != 0)
        {
            return null; // moreToCome: the client expects no reply
        }

        var document = reply.ToBson();
        var message = new byte[16 + 4 + 1 + document.Length];
        WriteHeader(message, requestId, OpMsg);
        document.CopyTo(message, 21); // flags 0, section kind 0
        return message;
    }

    private BsonDocument Execute(BsonDocument command, Dictionary<string, List<BsonDocument>> sequences, Session session)
    {
        Received.Enqueue(command);
        session.Last = command;
        var name = command.GetElement(0).Name;
        var database = command.GetValue("$db", "admin").AsString;
        if (RequireAuthentication && !session.Authenticated && name is "insert" or "find" or "count" or "aggregate" or "drop" or "listCollections"
            or "create" or "listIndexes" or "createIndexes" or "renameCollection" or "update" or "delete")
        {
            return Error(13, "Unauthorized", $"command {name} requires authentication");
        }

        if (ActsAsView.ContainsKey(name))
        {
            return Error(166, "CommandNotSupportedOnView", $"Namespace {database}.{command[0]} is a view, not a collection");
        }

        switch (name)
        {
            case "hello" or "isMaster" or "ismaster":
                return Hello();
            case "ping" or "endSessions":
                return Ok();
            case "saslStart":
                return command["mechanism"].AsString == "SCRAM-SHA-256" ? session.Scram.Start(command["payload"].AsByteArray, Users)
                    : Error(2, "BadValue", $"mechanism {command["mechanism"]} is not supported by the test server");
            case "saslContinue":
                var (answer, authenticated) = session.Scram.Continue(command["payload"].AsByteArray);
                session.Authenticated |= authenticated;
                return answer;
            case "insert":
            {
                var documents = sequences.GetValueOrDefault("documents")
                    ?? command.GetValue("documents", new BsonArray()).AsBsonArray.Select(d => d.AsBsonDocument).ToList();
                var target = _collections.GetOrAdd($"{database}.{command["insert"].AsString}", _ => []);
                var errors = new BsonArray();
                var ordered = command.GetValue("ordered", true).ToBoolean();
                var stored = 0;
                lock (target)
                {
                    for (var i = 0; i < documents.Count; i++)
                    {
                        if (Reject?.Invoke(documents[i]) is { } reason)
                        {
                            errors.Add(new BsonDocument { ["index"] = i, ["code"] = 121, ["errmsg"] = $"Document failed validation: {reason}" });
                            if (ordered)
                            {
                                break;
                            }

                            continue;
                        }

                        target.Add(documents[i]);
                        stored++;
                    }
                }

                var reply = new BsonDocument("n", stored);
                if (errors.Count > 0)
                {
                    reply["writeErrors"] = errors;
                }

                if (WriteConcernError?.Invoke(command) is { } concern)
                {
                    reply["writeConcernError"] = concern;
                }

                return Ok(reply);
            }

            case "find":
            {
                var ns = $"{database}.{command["find"].AsString}";
                var query = command.GetValue("filter", new BsonDocument()).AsBsonDocument;
                IEnumerable<BsonDocument> all = _collections.TryGetValue(ns, out var docs) ? Snapshot(docs).Where(d => Matches(d, query)) : [];
                if (command.GetValue("sort", BsonNull.Value) is BsonDocument { ElementCount: > 0 } sort)
                {
                    // Top-level fields only; BsonValue orders values of different types as MongoDB does (numbers, then
                    // strings, then documents, ..., ObjectIds); a missing field sorts as null, first.
                    IOrderedEnumerable<BsonDocument>? ordered = null;
                    foreach (var key in sort)
                    {
                        Func<BsonDocument, BsonValue> value = d => d.GetValue(key.Name, BsonNull.Value);
                        ordered = key.Value.ToInt32() >= 0
                            ? ordered is null ? all.OrderBy(value) : ordered.ThenBy(value)
                            : ordered is null ? all.OrderByDescending(value) : ordered.ThenByDescending(value);
                    }

                    all = ordered!;
                }

                if (command.GetValue("limit", 0).ToInt32() is > 0 and var limit)
                {
                    all = all.Take(limit);
                }

                var projection = command.GetValue("projection", BsonNull.Value) as BsonDocument;
                var queue = new Queue<BsonDocument>(projection is null ? all : all.Select(d => Project(d, projection)));
                var first = Take(queue, command.GetValue("batchSize", 101).ToInt32());
                long id = 0;
                if (queue.Count > 0)
                {
                    id = Interlocked.Increment(ref _nextCursor);
                    _cursors[id] = queue;
                }

                return Ok(new BsonDocument("cursor", new BsonDocument { ["id"] = id, ["ns"] = ns, ["firstBatch"] = first }));
            }

            case "getMore":
            {
                var id = command["getMore"].ToInt64();
                var ns = $"{database}.{command["collection"].AsString}";
                if (!_cursors.TryGetValue(id, out var queue))
                {
                    return Error(43, "CursorNotFound", $"cursor id {id} not found");
                }

                var next = Take(queue, command.GetValue("batchSize", int.MaxValue).ToInt32());
                if (queue.Count == 0)
                {
                    _cursors.TryRemove(id, out _);
                    id = 0;
                }

                return Ok(new BsonDocument("cursor", new BsonDocument { ["id"] = id, ["ns"] = ns, ["nextBatch"] = next }));
            }

            case "killCursors":
            {
                var killed = new BsonArray();
                foreach (var cursor in command.GetValue("cursors", new BsonArray()).AsBsonArray)
                {
                    if (_cursors.TryRemove(cursor.ToInt64(), out _))
                    {
                        killed.Add(cursor);
                    }
                }

                return Ok(new BsonDocument { ["cursorsKilled"] = killed, ["cursorsNotFound"] = new BsonArray(), ["cursorsAlive"] = new BsonArray(), ["cursorsUnknown"] = new BsonArray() });
            }

            case "aggregate":
            {
                // CountDocuments: [{$match: {}}, {$group: {_id: 1, n: {$sum: 1}}}] (only this pipeline is supported).
                var ns = $"{database}.{command["aggregate"].AsString}";
                var count = _collections.TryGetValue(ns, out var docs) ? Snapshot(docs).Count : 0;
                var batch = count == 0 ? new BsonArray() : new BsonArray { new BsonDocument { ["_id"] = 1, ["n"] = count } };
                return Ok(new BsonDocument("cursor", new BsonDocument { ["id"] = 0L, ["ns"] = ns, ["firstBatch"] = batch }));
            }

            case "count":
            {
                // EstimatedDocumentCount.
                var ns = $"{database}.{command["count"].AsString}";
                return Ok(new BsonDocument("n", _collections.TryGetValue(ns, out var docs) ? Snapshot(docs).Count : 0));
            }

            case "listCollections":
            {
                var filter = command.GetValue("filter", new BsonDocument()).AsBsonDocument;
                var names = _collections.Keys.Where(k => k.StartsWith(database + ".", StringComparison.Ordinal)).Select(k => k[(database.Length + 1)..])
                    .Where(n => !filter.Contains("name") || filter["name"].AsString == n);
                var batch = new BsonArray(names.Select(n => _info.TryGetValue($"{database}.{n}", out var info)
                    ? new BsonDocument { ["name"] = n, ["type"] = info.Type, ["options"] = info.Options, ["info"] = new BsonDocument { ["readOnly"] = info.Type == "view", ["uuid"] = Uuid(database, n) } }
                    : new BsonDocument { ["name"] = n, ["type"] = "collection", ["options"] = new BsonDocument(), ["info"] = new BsonDocument { ["readOnly"] = false, ["uuid"] = Uuid(database, n) } }));
                return Ok(new BsonDocument("cursor", new BsonDocument { ["id"] = 0L, ["ns"] = $"{database}.$cmd.listCollections", ["firstBatch"] = batch }));
            }

            case "update":
            {
                // Top-level equality filters; $set, $setOnInsert and $currentDate (the server's clock); upsert.
                var statements = sequences.GetValueOrDefault("updates") ?? command["updates"].AsBsonArray.Select(u => u.AsBsonDocument).ToList();
                // As MongoDB, an update makes its collection only when it upserts.
                var target = statements.Any(u => u.GetValue("upsert", false).ToBoolean()) ? _collections.GetOrAdd($"{database}.{command["update"].AsString}", _ => [])
                    : _collections.GetValueOrDefault($"{database}.{command["update"].AsString}") ?? [];
                var (matched, modified) = (0, 0);
                var upserted = new BsonArray();
                var errors = new BsonArray();
                lock (target)
                {
                    foreach (var statement in statements)
                    {
                        var query = statement["q"].AsBsonDocument;
                        var change = statement["u"].AsBsonDocument;
                        var found = target.Where(d => Matches(d, query)).Take(statement.GetValue("multi", false).ToBoolean() ? int.MaxValue : 1).ToList();
                        foreach (var document in found)
                        {
                            Apply(document, change, inserting: false);
                            matched++;
                            modified++;
                        }

                        if (found.Count == 0 && statement.GetValue("upsert", false).ToBoolean())
                        {
                            var document = new BsonDocument(query.Where(e => !e.Value.IsBsonDocument));
                            if (!document.Contains("_id"))
                            {
                                document.InsertAt(0, new BsonElement("_id", ObjectId.GenerateNewId()));
                            }

                            Apply(document, change, inserting: true);
                            if (target.Any(d => d["_id"].Equals(document["_id"])))
                            {
                                errors.Add(new BsonDocument { ["index"] = 0, ["code"] = 11000, ["errmsg"] = $"E11000 duplicate key error collection: {database}.{command["update"].AsString} index: _id_ dup key: {{ _id: {document["_id"].ToJson()} }}" });
                                continue;
                            }

                            target.Add(document);
                            upserted.Add(new BsonDocument { ["index"] = 0, ["_id"] = document["_id"] });
                        }
                    }
                }

                var reply = new BsonDocument { ["n"] = matched + upserted.Count, ["nModified"] = modified };
                if (upserted.Count > 0)
                {
                    reply["upserted"] = upserted;
                }

                if (errors.Count > 0)
                {
                    reply["writeErrors"] = errors;
                }

                return Ok(reply);
            }

            case "delete":
            {
                var deleted = 0;
                if (!_collections.TryGetValue($"{database}.{command["delete"].AsString}", out var target))
                {
                    return Ok(new BsonDocument("n", 0));
                }

                lock (target)
                {
                    foreach (var statement in sequences.GetValueOrDefault("deletes") ?? command["deletes"].AsBsonArray.Select(u => u.AsBsonDocument).ToList())
                    {
                        var query = statement["q"].AsBsonDocument;
                        var limit = statement.GetValue("limit", 0).ToInt32();
                        foreach (var document in target.Where(d => Matches(d, query)).Take(limit == 1 ? 1 : int.MaxValue).ToList())
                        {
                            target.Remove(document);
                            deleted++;
                        }
                    }
                }

                return Ok(new BsonDocument("n", deleted));
            }

            case "drop":
                _info.TryRemove($"{database}.{command["drop"].AsString}", out _);
                return _collections.TryRemove($"{database}.{command["drop"].AsString}", out _)
                    ? Ok()
                    : Error(26, "NamespaceNotFound", "ns not found");
            case "create":
            {
                var ns = $"{database}.{command["create"].AsString}";
                if (!_collections.TryAdd(ns, []))
                {
                    return Error(48, "NamespaceExists", $"Collection {ns} already exists.");
                }

                // The command's own fields, without the driver's envelope ($db, lsid, $clusterTime, ...).
                var options = new BsonDocument(command.Skip(1).Where(e => !e.Name.StartsWith('$') && e.Name is not "lsid" and not "writeConcern"));
                _info[ns] = new CollectionInfo("collection", options, []);
                return Ok();
            }

            case "listIndexes":
            {
                var ns = $"{database}.{command["listIndexes"].AsString}";
                if (!_collections.ContainsKey(ns))
                {
                    return Error(26, "NamespaceNotFound", $"ns does not exist: {ns}");
                }

                var indexes = new BsonArray { new BsonDocument { ["v"] = 2, ["key"] = new BsonDocument("_id", 1), ["name"] = "_id_" } };
                if (_info.TryGetValue(ns, out var clustered) && clustered.Options.GetValue("clusteredIndex", BsonNull.Value) is BsonDocument spec)
                {
                    // As MongoDB lists a clustered collection's index: its clusteredIndex option, marked clustered.
                    indexes[0] = new BsonDocument { ["v"] = spec.GetValue("v", 2), ["key"] = spec["key"], ["name"] = spec.GetValue("name", "_id_"), ["unique"] = true, ["clustered"] = true };
                }

                if (_info.TryGetValue(ns, out var info))
                {
                    indexes.AddRange(info.Indexes.Select(i => new BsonDocument("v", 2).AddRange(i)));
                }

                return Ok(new BsonDocument("cursor", new BsonDocument { ["id"] = 0L, ["ns"] = ns, ["firstBatch"] = indexes }));
            }

            case "createIndexes":
            {
                var ns = $"{database}.{command["createIndexes"].AsString}";
                if (command["indexes"].AsBsonArray.FirstOrDefault(i => i.AsBsonDocument.Contains("clustered")) is { } refused)
                {
                    // Only create makes a clustered index.
                    return Error(197, "InvalidIndexSpecificationOption", $"The field 'clustered' is not valid for an index specification. Specification: {refused}");
                }

                _collections.TryAdd(ns, []);
                var info = _info.GetOrAdd(ns, _ => new CollectionInfo("collection", [], []));
                var before = info.Indexes.Count + 1;
                info.Indexes.AddRange(command["indexes"].AsBsonArray.Select(i => i.AsBsonDocument));
                return Ok(new BsonDocument { ["numIndexesBefore"] = before, ["numIndexesAfter"] = info.Indexes.Count + 1, ["createdCollectionAutomatically"] = false });
            }

            case "renameCollection":
            {
                var from = command["renameCollection"].AsString;
                var to = command["to"].AsString;
                lock (_collections)
                {
                    if (!_collections.TryGetValue(from, out var documents))
                    {
                        return Error(26, "NamespaceNotFound", $"Source collection {from} does not exist");
                    }

                    if (_collections.ContainsKey(to) && !command.GetValue("dropTarget", false).ToBoolean())
                    {
                        return Error(48, "NamespaceExists", "target namespace exists");
                    }

                    _collections[to] = documents;
                    _collections.TryRemove(from, out _);
                    _info.TryRemove(to, out _);
                    if (_info.TryRemove(from, out var info))
                    {
                        _info[to] = info;
                    }
                }

                return Ok();
            }

            default:
                return Error(59, "CommandNotFound", $"no such command: '{name}'");
        }
    }

    /// <summary>False: listCollections gives no collection UUIDs, as older servers and some wire-compatible stores.</summary>
    public bool CollectionUuids { get; set; } = true;

    // As MongoDB's: one per collection made, kept through a rename, new when dropped and made again.
    private BsonValue Uuid(string database, string collection) =>
        CollectionUuids && _collections.TryGetValue($"{database}.{collection}", out var documents)
            ? new BsonBinaryData(_uuids.GetValue(documents, _ => new StrongBox<Guid>(Guid.NewGuid())).Value, GuidRepresentation.Standard)
            : BsonNull.Value;

    /// <summary>Drops a collection, as another client would.</summary>
    public void Drop(string database, string collection)
    {
        _info.TryRemove($"{database}.{collection}", out _);
        _collections.TryRemove($"{database}.{collection}", out _);
    }

    // Inclusion projection ({field: 1, ...}); _id stays unless excluded. As in MongoDB, a key with a dot is a path into
    // embedded documents ("price.usd" is price → usd), never a field whose name holds the dot.
    private static BsonDocument Project(BsonDocument document, BsonDocument projection)
    {
        if (document is RawBsonDocument raw)
        {
            return ProjectRaw(raw, projection);
        }

        var result = new BsonDocument();
        foreach (var element in document)
        {
            var keep = element.Name == "_id" ? projection.GetValue("_id", 1).ToBoolean()
                : !element.Name.Contains('.', StringComparison.Ordinal) && projection.Contains(element.Name) && projection[element.Name].ToBoolean();
            if (keep)
            {
                result.Add(element);
            }
            else if (element.Value is BsonDocument embedded && element.Name != "_id")
            {
                var prefix = element.Name + ".";
                var inner = new BsonDocument(projection.Where(p => p.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(p => new BsonElement(p.Name[prefix.Length..], p.Value)));
                if (inner.ElementCount > 0 && Project(embedded, inner.Contains("_id") ? inner : inner.Add("_id", 0)) is { ElementCount: > 0 } projected)
                {
                    result.Add(element.Name, projected);
                }
            }
        }

        return result;
    }

    // A document stored as bytes (see StoreRaw) projected on its top-level fields byte for byte, values never decoded:
    // a string that is not valid UTF-8 reaches the client as it was stored, as from MongoDB.
    private static RawBsonDocument ProjectRaw(RawBsonDocument document, BsonDocument projection)
    {
        var bytes = document.ToBson();
        using var input = new MemoryStream(bytes, writable: false);
        using var reader = new BsonBinaryReader(input, new BsonBinaryReaderSettings { Encoding = new UTF8Encoding(false, false) });
        using var output = new MemoryStream();
        output.Write(new byte[4]);
        reader.ReadStartDocument();
        while (true)
        {
            var start = reader.BsonStream.Position;
            if (reader.ReadBsonType() == BsonType.EndOfDocument)
            {
                break;
            }

            var name = reader.ReadName();
            reader.SkipValue();
            if (name == "_id" ? projection.GetValue("_id", 1).ToBoolean() : projection.Contains(name) && projection[name].ToBoolean())
            {
                output.Write(bytes, (int)start, (int)(reader.BsonStream.Position - start));
            }
        }

        output.WriteByte(0);
        var projected = output.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(projected, projected.Length);
        return new RawBsonDocument(projected);
    }

    /// <summary>
    /// Stores a document as the bytes given, as another client may have written it (a string that is not valid UTF-8,
    /// which MongoDB keeps as it is). Its _id must be first and valid.
    /// </summary>
    public void StoreRaw(string database, string collection, byte[] bson)
    {
        var docs = _collections.GetOrAdd($"{database}.{collection}", _ => []);
        lock (docs)
        {
            docs.Add(new RawBsonDocument(bson));
        }
    }

    // Top-level equality ({field: value, ...}) only, as the product's filters use.
    private static bool Matches(BsonDocument document, BsonDocument query) =>
        query.All(e => document.TryGetValue(e.Name, out var value) ? value.Equals(e.Value) : e.Value.IsBsonNull);

    private static void Apply(BsonDocument document, BsonDocument change, bool inserting)
    {
        foreach (var (name, fields) in change.Select(e => (e.Name, e.Value.AsBsonDocument)))
        {
            foreach (var field in fields)
            {
                switch (name)
                {
                    case "$set":
                    case "$setOnInsert" when inserting:
                        document[field.Name] = field.Value;
                        break;
                    case "$currentDate":
                        document[field.Name] = new BsonDateTime(DateTime.UtcNow);
                        break;
                    case "$setOnInsert":
                        break;
                    default:
                        throw new InvalidDataException($"update operator {name} is not supported by the test server");
                }
            }
        }
    }

    /// <summary>Replaces a document of a collection (found by _id), as another client's write would.</summary>
    public void Replace(string database, string collection, BsonDocument document)
    {
        var docs = _collections.GetOrAdd($"{database}.{collection}", _ => []);
        lock (docs)
        {
            docs.RemoveAll(d => d["_id"].Equals(document["_id"]));
            docs.Add(document);
        }
    }

    private static List<BsonDocument> Snapshot(List<BsonDocument> documents)
    {
        lock (documents)
        {
            return [.. documents];
        }
    }

    private static BsonArray Take(Queue<BsonDocument> queue, int count)
    {
        var batch = new BsonArray();
        while (queue.Count > 0 && batch.Count < count)
        {
            batch.Add(queue.Dequeue());
        }

        return batch;
    }

    private BsonDocument Hello() => new()
    {
        ["helloOk"] = true,
        ["ismaster"] = true,
        ["isWritablePrimary"] = true,
        ["maxBsonObjectSize"] = 16777216,
        ["maxMessageSizeBytes"] = 48000000,
        ["maxWriteBatchSize"] = 100000,
        ["localTime"] = new BsonDateTime(DateTime.UtcNow),
        ["logicalSessionTimeoutMinutes"] = 30,
        ["connectionId"] = Interlocked.Increment(ref _connectionId),
        ["minWireVersion"] = 0,
        ["maxWireVersion"] = 17,
        ["saslSupportedMechs"] = new BsonArray { "SCRAM-SHA-256", "SCRAM-SHA-1" },
        ["ok"] = 1.0,
    };

    internal static BsonDocument Ok(BsonDocument? fields = null)
    {
        var reply = fields ?? [];
        reply["ok"] = 1.0;
        return reply;
    }

    internal static BsonDocument Error(int code, string codeName, string message) => new()
    {
        ["ok"] = 0.0,
        ["errmsg"] = message,
        ["code"] = code,
        ["codeName"] = codeName,
    };

    private void WriteHeader(byte[] message, int responseTo, int opCode)
    {
        BinaryPrimitives.WriteInt32LittleEndian(message, message.Length);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), Interlocked.Increment(ref _nextRequest));
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), responseTo);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), opCode);
    }

    private static BsonDocument ReadDocument(byte[] data, int offset, out int size)
    {
        size = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
        using var stream = new MemoryStream(data, offset, size, writable: false);
        using var reader = new BsonBinaryReader(stream);
        return BsonSerializer.Deserialize<BsonDocument>(reader);
    }

    private sealed record CollectionInfo(string Type, BsonDocument Options, List<BsonDocument> Indexes);

    private sealed class Session
    {
        public bool Authenticated { get; set; }

        /// <summary>The command being answered.</summary>
        public BsonDocument? Last { get; set; }

        public ScramSha256Server Scram { get; } = new();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await Task.WhenAll(_connections.Append(_accepting)).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
    }
}
