using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using NetworkSecurity.MongoDb.Native;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// A pooled connection to MongoDB through libmongoc. Thread-safe: each operation pops a client from the pool and
/// pushes it back; cursors and collections are destroyed before that. Errors carry the driver's domain and code.
/// </summary>
public sealed class MongoConnection : IDisposable
{
    private static LibMongoc.LogHandler? s_logHandler; // kept alive: native code holds a pointer to it
    private readonly IntPtr _uri;
    private readonly IntPtr _pool;
    private bool _disposed;

    public MongoConnection(MongoOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        NativeLibraries.EnsureLoaded();
        InstallLogHandler(logger);

        var connectionString = options.ConnectionString;
        if (!connectionString.Contains("serverSelectionTimeoutMS", StringComparison.OrdinalIgnoreCase))
        {
            var separator = connectionString.Contains('?', StringComparison.Ordinal) ? "&" : (connectionString.Count(c => c == '/') >= 3 ? "?" : "/?");
            connectionString += separator + "serverSelectionTimeoutMS=" + ((int)options.ServerSelectionTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        }

        using (var error = new BsonError())
        {
            _uri = LibMongoc.mongoc_uri_new_with_error(connectionString, error.Pointer);
            if (_uri == IntPtr.Zero)
            {
                throw new MongoException(error.Domain, error.Code, $"Invalid MongoDB connection string '{options.Redacted}': {error.Message}");
            }
        }

        _pool = LibMongoc.mongoc_client_pool_new(_uri);
        if (_pool == IntPtr.Zero)
        {
            LibMongoc.mongoc_uri_destroy(_uri);
            throw new MongoException(0, 0, $"Could not create a connection pool for '{options.Redacted}'.");
        }

        LibMongoc.mongoc_client_pool_set_error_api(_pool, 2);
        LibMongoc.mongoc_client_pool_set_appname(_pool, "NetworkSecurity");
    }

    public MongoOptions Options { get; }

    /// <summary>Round trip to the server (readiness check).</summary>
    public void Ping() => WithClient(client =>
    {
        using var command = Bson.FromJson("{\"ping\": 1}");
        using var error = new BsonError();
        if (!LibMongoc.mongoc_client_command_simple(client, "admin", command.DangerousGetHandle(), IntPtr.Zero, IntPtr.Zero, error.Pointer))
        {
            throw Error(error, "ping");
        }
    });

    /// <summary>Inserts the documents (Extended JSON) in batches; returns how many were inserted.</summary>
    public long InsertMany(IEnumerable<string> documents, int batchSize)
    {
        long inserted = 0;
        foreach (var batch in documents.Chunk(batchSize))
        {
            WithCollection(collection =>
            {
                var handles = batch.Select(Bson.FromJson).ToArray();
                try
                {
                    using var error = new BsonError();
                    var pointers = handles.Select(h => h.DangerousGetHandle()).ToArray();
                    if (!LibMongoc.mongoc_collection_insert_many(collection, pointers, (nuint)pointers.Length, IntPtr.Zero, IntPtr.Zero, error.Pointer))
                    {
                        throw Error(error, "insert");
                    }
                }
                finally
                {
                    foreach (var handle in handles)
                    {
                        handle.Dispose();
                    }
                }
            });
            inserted += batch.Length;
        }

        return inserted;
    }

    /// <summary>Streams every document of the collection as relaxed Extended JSON, <paramref name="batchSize"/> per round trip.</summary>
    public IEnumerable<string> FindAll(int batchSize)
    {
        // Documents are read into a list per call: libmongoc's cursor must be used and destroyed on one client.
        var documents = new List<string>();
        WithCollection(collection =>
        {
            using var filter = Bson.FromJson("{}");
            using var options = Bson.FromJson($"{{\"batchSize\": {batchSize}}}");
            var cursor = LibMongoc.mongoc_collection_find_with_opts(collection, filter.DangerousGetHandle(), options.DangerousGetHandle(), IntPtr.Zero);
            try
            {
                while (LibMongoc.mongoc_cursor_next(cursor, out var document))
                {
                    documents.Add(Bson.ToJson(document, canonical: false));
                }

                using var error = new BsonError();
                if (LibMongoc.mongoc_cursor_error(cursor, error.Pointer))
                {
                    throw Error(error, "find");
                }
            }
            finally
            {
                LibMongoc.mongoc_cursor_destroy(cursor);
            }
        });
        return documents;
    }

    public long Count() => WithCollection(collection =>
    {
        using var filter = Bson.FromJson("{}");
        using var error = new BsonError();
        var count = LibMongoc.mongoc_collection_count_documents(collection, filter.DangerousGetHandle(), IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, error.Pointer);
        return count < 0 ? throw Error(error, "count") : count;
    });

    /// <summary>Drops the collection; a missing collection is not an error.</summary>
    public void Drop() => WithCollection(collection =>
    {
        using var error = new BsonError();
        if (!LibMongoc.mongoc_collection_drop_with_opts(collection, IntPtr.Zero, error.Pointer) && error.Code != 26)
        {
            throw Error(error, "drop");
        }
    });

    private MongoException Error(BsonError error, string operation) =>
        new(error.Domain, error.Code, $"MongoDB {operation} on {Options.Database}.{Options.Collection} at {Options.Redacted} failed (domain {error.Domain}, code {error.Code}): {error.Message}");

    private void WithClient(Action<IntPtr> action) => WithClient(client =>
    {
        action(client);
        return 0;
    });

    private T WithClient<T>(Func<IntPtr, T> action)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var client = LibMongoc.mongoc_client_pool_pop(_pool);
        try
        {
            return action(client);
        }
        finally
        {
            LibMongoc.mongoc_client_pool_push(_pool, client);
        }
    }

    private void WithCollection(Action<IntPtr> action) => WithCollection(collection =>
    {
        action(collection);
        return 0;
    });

    private T WithCollection<T>(Func<IntPtr, T> action) => WithClient(client =>
    {
        var collection = LibMongoc.mongoc_client_get_collection(client, Options.Database, Options.Collection);
        try
        {
            return action(collection);
        }
        finally
        {
            LibMongoc.mongoc_collection_destroy(collection);
        }
    });

    private static void InstallLogHandler(ILogger? logger)
    {
        if (s_logHandler is not null)
        {
            return;
        }

        // The pool's monitor threads log through this (the default handler writes noisy lines to stderr).
        s_logHandler = (level, domain, message, _) =>
        {
            if (logger is null)
            {
                return;
            }

            var text = $"{Marshal.PtrToStringUTF8(domain)}: {Marshal.PtrToStringUTF8(message)}";
            if (level <= 2)
            {
                logger.LogWarning("libmongoc {Message}", text);
            }
            else if (level <= 4)
            {
                logger.LogDebug("libmongoc {Message}", text);
            }
        };
        LibMongoc.mongoc_log_set_handler(s_logHandler, IntPtr.Zero);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        LibMongoc.mongoc_client_pool_destroy(_pool);
        LibMongoc.mongoc_uri_destroy(_uri);
    }
}
