namespace NetworkSecurity.MongoDb;

/// <summary>An error from the MongoDB driver or server, with the driver's error domain and code.</summary>
public sealed class MongoException(uint domain, uint code, string message) : Exception(message)
{
    /// <summary>libmongoc error domain (15 = server selection, 17 = server, …).</summary>
    public uint Domain { get; } = domain;

    public uint Code { get; } = code;
}
