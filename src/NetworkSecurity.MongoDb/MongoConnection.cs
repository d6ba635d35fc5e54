using System.Globalization;
using System.Text.RegularExpressions;
using MongoDB.Bson;
using MongoDB.Driver;
using MongoDB.Driver.Core.Configuration;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// A MongoDB client (official MongoDB.Driver, pooled, thread-safe) for one collection. Opening it checks the
/// connection string and, for mongodb+srv://, resolves the SRV record first so a DNS failure says so. Every driver
/// error is turned into a <see cref="MongoException"/> whose message names the operation, the namespace and the
/// server with the password masked.
/// </summary>
public sealed partial class MongoConnection : IDisposable
{
    private readonly MongoClient _client;

    private MongoConnection(MongoOptions options, MongoClient client)
    {
        Options = options;
        _client = client;
        Database = client.GetDatabase(options.Database);
        Collection = Database.GetCollection<BsonDocument>(options.Collection);
    }

    public MongoOptions Options { get; }

    public IMongoDatabase Database { get; }

    public IMongoCollection<BsonDocument> Collection { get; }

    /// <summary>Whether writes are acknowledged: false for w=0 in the URI.</summary>
    public bool AcknowledgesWrites => _client.Settings.WriteConcern.IsAcknowledged;

    /// <summary>How long server selection may take: the URI's serverSelectionTimeoutMS, else the options' value.</summary>
    public TimeSpan ServerSelectionTimeout => _client.Settings.ServerSelectionTimeout;

    public static async Task<MongoConnection> OpenAsync(MongoOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConnectionString parsed;
        MongoClientSettings settings;
        try
        {
            parsed = new ConnectionString(options.ConnectionString);
            settings = MongoClientSettings.FromConnectionString(options.ConnectionString);
        }
        catch (Exception ex) when (ex is MongoConfigurationException or ArgumentException or FormatException or NotSupportedException)
        {
            throw new MongoException(MongoFailure.InvalidConnectionString,
                options.Mask($"Invalid MongoDB connection string '{options.Redacted}': {ex.Message}"), ex);
        }

        if (!Mentions(options.ConnectionString, "serverSelectionTimeoutMS"))
        {
            settings.ServerSelectionTimeout = options.ServerSelectionTimeout;
        }

        if (!Mentions(options.ConnectionString, "connectTimeoutMS"))
        {
            settings.ConnectTimeout = options.ServerSelectionTimeout;
        }

        // timeoutMS (the driver's per-operation timeout) replaces socketTimeoutMS when given.
        if (parsed.SocketTimeout is null && !Regex.IsMatch(options.ConnectionString, "[?&]timeoutMS=", RegexOptions.IgnoreCase))
        {
            settings.SocketTimeout = options.SocketTimeout;
        }

        settings.ApplicationName ??= "NetworkSecurity";
        // MongoDB stores strings that are not valid UTF-8 (written by other clients): the driver's strict decoding threw
        // DecoderFallbackException out of the read, a stack trace naming no document. Decoded with U+FFFD instead, such
        // a value is no number, so validation names its document and field.
        settings.ReadEncoding = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
        if (parsed.Scheme == ConnectionStringScheme.MongoDBPlusSrv)
        {
            await ResolveSrvAsync(options, parsed, settings.ServerSelectionTimeout, cancellationToken).ConfigureAwait(false);
        }

        return new MongoConnection(options, new MongoClient(settings));
    }

    // Without this, a host that does not resolve only shows up as a server-selection timeout with "Servers : []".
    private static async Task ResolveSrvAsync(MongoOptions options, ConnectionString parsed, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var host = parsed.Hosts.FirstOrDefault()?.ToString() ?? "?";
        if (host.StartsWith("Unspecified/", StringComparison.Ordinal))
        {
            host = host["Unspecified/".Length..];
        }

        host = Regex.Replace(host, ":\\d+$", "");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (options.DnsServer is { } server)
            {
                await LookUpSrvAsync(server, host, timeout, deadline.Token).ConfigureAwait(false);
            }

            await parsed.ResolveAsync(deadline.Token).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new MongoException(MongoFailure.DnsResolution, options.Mask(
                $"DNS lookup of the SRV record _mongodb._tcp.{host} (from MONGODB_URL {options.Redacted}) did not answer within {Seconds(timeout)}: check the host name and the machine's DNS."), ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new MongoException(MongoFailure.DnsResolution, options.Mask(
                $"DNS lookup of the SRV record _mongodb._tcp.{host} (from MONGODB_URL {options.Redacted}) failed: {Messages(ex)} Check the host name (a mongodb+srv:// URL names a cluster, e.g. cluster0.abcde.mongodb.net)."), ex);
        }
    }

    private static async Task LookUpSrvAsync(string server, string host, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var endpoint = System.Net.IPEndPoint.TryParse(server, out var parsedEndpoint) ? parsedEndpoint
            : throw new ArgumentException($"MONGODB_DNS_SERVER '{server}' is not an address like 10.0.0.2:53.");
        var lookup = new DnsClient.LookupClient(new DnsClient.LookupClientOptions(new DnsClient.NameServer(endpoint))
        {
            Timeout = timeout,
            Retries = 0,
            UseCache = false,
            ThrowDnsErrors = true,
            UseTcpFallback = false,
        });
        var answer = await lookup.QueryAsync($"_mongodb._tcp.{host}", DnsClient.QueryType.SRV, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!answer.Answers.SrvRecords().Any())
        {
            throw new InvalidOperationException($"{server} has no SRV record for it.");
        }
    }

    /// <summary>Round trip to the server (readiness check, and an early clear error before long operations).</summary>
    public Task PingAsync(CancellationToken cancellationToken) =>
        RunAsync("ping", async token =>
        {
            await _client.GetDatabase("admin").RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Runs a driver call, translating its failures into a clear <see cref="MongoException"/>.</summary>
    public async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Translate(operation, ex) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>The clear error for a driver exception, or null when it is not one (cancellation, bugs).</summary>
    public MongoException? Translate(string operation, Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var where = $"MongoDB {operation} on {Options.Database}.{Options.Collection} at {Options.Redacted}";
        if (ex is MongoException own)
        {
            return own;
        }

        (MongoFailure Failure, string Message)? found = ex switch
        {
            MongoAuthenticationException => (MongoFailure.Authentication,
                $"{where} failed: the server refused the credentials ({Messages(ex)}) Check the user name, password and authSource in MONGODB_URL."),
            MongoCommandException { Code: 13 or 18 } command => (MongoFailure.Authentication,
                $"{where} was refused: {command.CodeName} ({command.Code}): {command.ErrorMessage}. Check the user, its roles and authSource in MONGODB_URL."),
            MongoExecutionTimeoutException => (MongoFailure.Timeout, $"{where} timed out on the server: {ex.Message}"),
            MongoCommandException command => (MongoFailure.Server, $"{where} failed: {command.CodeName} ({command.Code}): {command.ErrorMessage}"),
            TimeoutException when AuthenticationCause(ex) is { } auth => (MongoFailure.Authentication,
                $"{where} failed: the server refused the credentials ({auth}). Check the user name, password and authSource in MONGODB_URL."),
            // A standalone server (or another set's member) is dropped from a replica set's view: "Servers : []".
            TimeoutException when ex.Message.Contains("Type : \"ReplicaSet\"", StringComparison.Ordinal) && ex.Message.Contains("Servers : []", StringComparison.Ordinal) => (MongoFailure.Unreachable,
                $"{where} failed: no member of replica set '{_client.Settings.ReplicaSetName}' was found within {Seconds(ServerSelectionTimeout)}: the hosts in MONGODB_URL did not answer, or answered as something else (a standalone server, a member of another replica set). Check the hosts and replicaSet in MONGODB_URL."),
            TimeoutException => (MongoFailure.Unreachable,
                $"{where} failed: no MongoDB server answered within {Seconds(ServerSelectionTimeout)} ({Cause(ex)}). Check that the server runs and is reachable, and the host and port in MONGODB_URL."),
            // A reply awaited past socketTimeoutMS (not a connection that could not be opened: that is connectTimeoutMS).
            MongoConnectionException when ex.InnerException is TimeoutException && !ex.Message.Contains("opening a connection", StringComparison.Ordinal) => (MongoFailure.Timeout,
                $"{where} failed: the server did not answer within {Seconds(_client.Settings.SocketTimeout)} (socketTimeoutMS). Check the server's load and the network; a larger socketTimeoutMS in MONGODB_URL allows slower replies."),
            MongoConnectionException => (MongoFailure.Unreachable, $"{where} failed: the connection broke ({Messages(ex)})"),
            MongoConfigurationException => (MongoFailure.InvalidConnectionString, $"{where} failed: {ex.Message}"),
            MongoDB.Driver.MongoException => (MongoFailure.Server, $"{where} failed: {Messages(ex)}"),
            _ => null,
        };
        return found is { } f ? new MongoException(f.Failure, Options.Mask(f.Message), ex) : null;
    }

    private static bool Mentions(string connectionString, string option) =>
        connectionString.Contains(option + "=", StringComparison.OrdinalIgnoreCase);

    private static string Seconds(TimeSpan timeout) => $"{timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";

    // The messages of the exception and its inner ones, once each: the driver's outer message rarely says why.
    private static string Messages(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message.Trim());
        }

        return string.Join(" ", messages.Distinct().Select(m => m.EndsWith('.') ? m : m + "."));
    }

    // The server-selection timeout text embeds the cluster view; keep what says why (refused, unreachable, TLS, ...).
    private static string Cause(Exception ex)
    {
        var text = ex.ToString();
        var socket = SocketError().Match(text);
        if (socket.Success)
        {
            return socket.Groups[1].Value.Trim();
        }

        var heartbeat = HeartbeatError().Match(text);
        if (heartbeat.Success)
        {
            return heartbeat.Groups[1].Value.Trim();
        }

        // Servers still in their initial state: no handshake finished, nor failed. (This printed the cluster view cut
        // off mid-way: "the servers were Servers : [{ ServerId: "{ ClusterId : 1, EndPoint : ... Type: ".)
        var servers = ServersPart().Match(text);
        var waiting = ServersWaiting().Matches(text).Select(m => m.Groups[1].Value).Distinct().ToList();
        return waiting.Count > 0
            ? $"{string.Join(", ", waiting)} accepted no connection or completed no MongoDB handshake: a host that drops packets, a TLS setting that does not match the server's, or another service on that port"
            : "the servers were " + (servers.Success ? servers.Value : "not found");
    }

    private static string? AuthenticationCause(Exception ex)
    {
        var match = AuthenticationError().Match(ex.ToString());
        return match.Success ? match.Groups[1].Value.Trim() : null;
    }

    [GeneratedRegex(@"SocketException \(\d+\): ([^\r\n""]+)")]
    private static partial Regex SocketError();

    [GeneratedRegex(@"HeartbeatException: ""[\w.]+: ([^\r\n""]+)")]
    private static partial Regex HeartbeatError();

    [GeneratedRegex(@"Servers : \[[^\]]{0,200}\]?")]
    private static partial Regex ServersPart();

    [GeneratedRegex(@"EndPoint: ""([^""]+)"", ReasonChanged: ""ServerInitialDescription"", State: ""Disconnected""")]
    private static partial Regex ServersWaiting();

    [GeneratedRegex(@"MongoAuthenticationException: ([^\r\n""]+)")]
    private static partial Regex AuthenticationError();

    public void Dispose() => _client.Dispose();
}
