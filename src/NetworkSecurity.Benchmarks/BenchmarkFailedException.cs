namespace NetworkSecurity.Benchmarks;

/// <summary>A benchmark that could not run (an unreachable MongoDB): Program prints the message and exits with 1.</summary>
public sealed class BenchmarkFailedException(string message) : Exception(message);
