namespace NetworkSecurity.MongoDb;

/// <summary>What went wrong talking to MongoDB, so callers and tests can tell the cases apart.</summary>
public enum MongoFailure
{
    InvalidConnectionString,
    DnsResolution,
    Unreachable,
    Authentication,
    Server,
    Timeout,
}

/// <summary>
/// A MongoDB failure with a complete message that is safe to show: it names the operation, the namespace and the
/// server (password masked) and says what to check.
/// </summary>
public sealed class MongoException(MongoFailure failure, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public MongoFailure Failure { get; } = failure;
}
