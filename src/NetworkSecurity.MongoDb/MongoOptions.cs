using System.Text.RegularExpressions;
using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// Where the network data lives: MONGODB_URL (or MONGO_DB_URL, the seed's name), MONGODB_DATABASE and
/// MONGODB_COLLECTION. Any connection string the official driver accepts works (mongodb+srv:// for Atlas, TLS,
/// SCRAM, timeouts and pool options in the URI).
/// </summary>
public sealed partial record MongoOptions
{
    public const int DefaultBatchSize = 1000;

    /// <summary>MongoDB's limit on database.collection, in UTF-8 bytes.</summary>
    public const int MaxNamespaceBytes = 255;

    public required string ConnectionString { get; init; }

    public string Database { get; init; } = "networksecurity";

    public string Collection { get; init; } = "NetworkData";

    /// <summary>Documents per insert batch (push-data) and per cursor round trip (reading). MONGODB_BATCH_SIZE.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>How long to look for a usable server before failing, unless the URI sets serverSelectionTimeoutMS.</summary>
    public TimeSpan ServerSelectionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one read or write on a connection may wait for the server (one reply: a cursor batch, an insert's
    /// acknowledgement), unless the URI sets socketTimeoutMS or timeoutMS. The driver's own default waits for ever, so a
    /// server that stopped answering mid-read or mid-insert hung training and push-data.
    /// </summary>
    public TimeSpan SocketTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// push-data --drop renews the lease of its staging collection every quarter of this; a lease not renewed for this
    /// long (by the server's clock) marks a dead push, whose staging collection the next push removes.
    /// </summary>
    public TimeSpan StagingLeaseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A DNS server (an IP address, with :port or 53) that must resolve a mongodb+srv:// host before the driver is asked to (MONGODB_DNS_SERVER);
    /// unset = only the machine's resolver, through the driver. Lets a closed network (or a test) use its own DNS.
    /// </summary>
    public string? DnsServer { get; init; }

    // The record's ToString with the connection string's secrets masked (it printed the password as given).
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"ConnectionString = {Redact(ConnectionString)}, Database = {Database}, Collection = {Collection}, BatchSize = {BatchSize}");
        return true;
    }

    public static MongoOptions? FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        // Checked even without a URL: a bad value set beside a URL given later (push-data --uri, a second deployment
        // step) should not wait until then to be refused.
        var batchSize = ParseBatchSize(read("MONGODB_BATCH_SIZE"));
        var dns = read("MONGODB_DNS_SERVER") is { Length: > 0 } server ? server.Trim() : null;
        if (dns is not null)
        {
            if (!System.Net.IPEndPoint.TryParse(dns, out var endpoint))
            {
                throw new ArgumentException($"MONGODB_DNS_SERVER '{dns}' is not an address like 10.0.0.2:53.");
            }

            // No port: DNS's own, 53 (it became port 0, and every lookup failed).
            dns = endpoint.Port == 0 ? new System.Net.IPEndPoint(endpoint.Address, 53).ToString() : dns;
        }

        var database = read("MONGODB_DATABASE") is { Length: > 0 } db ? db : "networksecurity";
        // MongoDB counts the 63 in bytes: "é" is two.
        if (database.Trim().Length != database.Length || System.Text.Encoding.UTF8.GetByteCount(database) > 63 || database.IndexOfAny(['/', '\\', '.', ' ', '"', '$', '\0']) >= 0)
        {
            // MongoDB's own rules for a database name; the server refused it only at the first push or read.
            throw new ArgumentException($"MONGODB_DATABASE '{database}' is not a MongoDB database name (at most 63 bytes in UTF-8, none of / \\ . \" $ or spaces).");
        }

        var collection = read("MONGODB_COLLECTION") is { Length: > 0 } name ? name : "NetworkData";
        if (collection.Trim().Length != collection.Length || collection.IndexOfAny(['$', '\0']) >= 0 || collection.StartsWith("system.", StringComparison.Ordinal) || collection.StartsWith('.'))
        {
            throw new ArgumentException($"MONGODB_COLLECTION '{collection}' is not a MongoDB collection name (no $, no spaces around it, not starting with a dot, not system.*).");
        }

        // MongoDB (4.4 and later, all the driver supports) refuses a namespace over 255 bytes, at the first push or read.
        if (System.Text.Encoding.UTF8.GetByteCount($"{database}.{collection}") is > MaxNamespaceBytes and var bytes)
        {
            throw new ArgumentException($"MONGODB_COLLECTION '{collection}' is too long: the namespace {database}.{collection} has {bytes} bytes, and MongoDB allows {MaxNamespaceBytes}.");
        }

        // The variable the URL came from, for the message: MONGODB_URL named in an error about MONGO_DB_URL's value sent
        // the operator to a variable they had not set.
        var (variable, url) = read("MONGODB_URL") is { Length: > 0 } u ? ("MONGODB_URL", u) : ("MONGO_DB_URL", read("MONGO_DB_URL"));
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        // Settings that cannot work are refused where they are read (at the service's start, before a command runs),
        // as ArgumentExceptions, the configuration mistakes: not later as a failed readiness probe or training job.
        url = url.Trim();
        try
        {
            _ = new MongoDB.Driver.Core.Configuration.ConnectionString(url); // parses only: no DNS, no connection
            // Builds the client settings too (no DNS, no connection): they refuse what parses but cannot work, such
            // as an unknown authMechanism, a password with MONGODB-X509 or maxPoolSize=-1.
            _ = MongoDB.Driver.MongoClientSettings.FromConnectionString(url);
        }
        catch (Exception ex) when (ex is MongoDB.Driver.MongoConfigurationException or ArgumentException or FormatException or NotSupportedException)
        {
            throw new ArgumentException($"{variable} '{Redact(url)}' is not a MongoDB connection string: {ex.Message.Replace(url, Redact(url), StringComparison.Ordinal)}{UnencodedPasswordHint(url)}");
        }

        var options = new MongoOptions
        {
            ConnectionString = url,
            Database = database,
            Collection = collection,
            BatchSize = batchSize,
            DnsServer = dns,
        };
        return options;
    }

    // Read as push-data's --batch-size reads it (spaces around it and a sign allowed): " 5000 " was refused here and taken there.
    private static int ParseBatchSize(string? text) =>
        string.IsNullOrWhiteSpace(text) ? DefaultBatchSize
        : int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var size) && size is > 0 and <= 100_000 ? size
        : throw new ArgumentException($"MONGODB_BATCH_SIZE must be a whole number from 1 to 100000, not '{text}'.");

    /// <summary>The connection string with any password replaced, for messages and logs.</summary>
    public string Redacted => Redact(ConnectionString);

    /// <summary>"host/db.collection" with the password masked: how messages name the data.</summary>
    public string Namespace => $"{Redacted.Split('?')[0].TrimEnd('/')}/{Database}.{Collection}";

    /// <summary>
    /// <paramref name="text"/> with this connection string's secrets masked: the password and the values of secret
    /// options (tlsCertificateKeyFilePassword, authMechanismProperties), as written and URL-decoded.
    /// </summary>
    public string Mask(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // The redacted connection string is kept whole: a short password ("1", or "admin" as the user's name and the
        // authSource) was masked inside it too, and "mongodb://u:***@***27.0.0.***:***/" hid the host and port.
        var redacted = Redacted;
        var parts = text.Replace(ConnectionString, redacted, StringComparison.Ordinal).Split(redacted);
        var secrets = SecretOptions().Matches(ConnectionString).Select(m => m.Groups[2].Value).Prepend(UrlCredentials.Password(ConnectionString) ?? "");
        foreach (var secret in secrets.Where(s => s.Length > 0).SelectMany(s => new[] { s, Uri.UnescapeDataString(s) }).Distinct().OrderByDescending(s => s.Length))
        {
            for (var i = 0; i < parts.Length; i++)
            {
                parts[i] = parts[i].Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return string.Join(redacted, parts);
    }

    public static string Redact(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return SecretOptions().Replace(UrlCredentials.Redact(connectionString), "$1***");
    }

    // docker-compose.yml writes MONGO_ROOT_PASSWORD into the URL as it is: a generated password holding '/' or '@' got only
    // the driver's "is not valid", which names neither the password nor the cure.
    private static string UnencodedPasswordHint(string url) =>
        UrlCredentials.Password(url) is { } password && (password.IndexOfAny(['/', '?', '#', '@', ':']) >= 0 || BadEscape().IsMatch(password))
            ? " Its password holds a character a URL reserves (/ ? # @ : or a % not followed by two hex digits): write the password URL-encoded (%2F %3F %23 %40 %3A %25)."
            : "";

    [GeneratedRegex("%(?![0-9A-Fa-f]{2})")]
    private static partial Regex BadEscape();

    // Options whose values are secrets: tlsCertificateKeyFilePassword (and any other *password*), and
    // authMechanismProperties (e.g. AWS_SESSION_TOKEN).
    [GeneratedRegex("([?&](?:[^=&]*password[^=&]*|authMechanismProperties)=)([^&]*)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretOptions();
}
