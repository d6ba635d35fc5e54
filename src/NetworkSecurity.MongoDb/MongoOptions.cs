namespace NetworkSecurity.MongoDb;

/// <summary>
/// Where the network data lives: MONGODB_URL (or MONGO_DB_URL, the seed's name), MONGODB_DATABASE and
/// MONGODB_COLLECTION. Any MongoDB connection string works (mongodb+srv:// for Atlas, TLS, auth options).
/// </summary>
public sealed record MongoOptions
{
    public required string ConnectionString { get; init; }

    public string Database { get; init; } = "networksecurity";

    public string Collection { get; init; } = "NetworkData";

    public int BatchSize { get; init; } = 1000;

    /// <summary>How long to look for a usable server before failing (unless the connection string says otherwise).</summary>
    public TimeSpan ServerSelectionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public static MongoOptions? FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var url = read("MONGODB_URL") is { Length: > 0 } u ? u : read("MONGO_DB_URL");
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        return new MongoOptions
        {
            ConnectionString = url,
            Database = read("MONGODB_DATABASE") is { Length: > 0 } db ? db : "networksecurity",
            Collection = read("MONGODB_COLLECTION") is { Length: > 0 } c ? c : "NetworkData",
        };
    }

    /// <summary>The connection string with any password replaced, for messages and logs.</summary>
    public string Redacted => Redact(ConnectionString);

    public static string Redact(string connectionString)
    {
        var scheme = connectionString.IndexOf("://", StringComparison.Ordinal);
        var at = connectionString.IndexOf('@', StringComparison.Ordinal);
        if (scheme < 0 || at < scheme)
        {
            return connectionString;
        }

        var credentials = connectionString[(scheme + 3)..at];
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? connectionString : connectionString[..(scheme + 3)] + credentials[..colon] + ":***" + connectionString[at..];
    }
}
