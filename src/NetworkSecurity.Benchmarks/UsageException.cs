namespace NetworkSecurity.Benchmarks;

/// <summary>A bad argument: Program prints the message and the usage and exits with 2.</summary>
public sealed class UsageException(string message) : Exception(message);
