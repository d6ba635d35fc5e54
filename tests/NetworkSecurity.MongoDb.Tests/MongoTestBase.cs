using Microsoft.Extensions.Logging;

namespace NetworkSecurity.MongoDb.Tests;

/// <summary>
/// Each test gets its own wire-protocol test server on 127.0.0.1 and a fresh collection. Tests that only use what any
/// MongoDB offers go to a real server instead when NETWORKSECURITY_TEST_MONGODB_URI names one (<see cref="Options"/>);
/// tests that use the test server's hooks always use the test server (<see cref="TestServerOptions"/>).
/// </summary>
public abstract class MongoTestBase : IAsyncLifetime
{
    protected static readonly string? RealServer = Environment.GetEnvironmentVariable("NETWORKSECURITY_TEST_MONGODB_URI") is { Length: > 0 } uri ? uri : null;

    protected WireProtocolServer Server { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Server = new WireProtocolServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    protected MongoOptions Options(int batchSize = 1000) => TestServerOptions(batchSize) with { ConnectionString = RealServer ?? Server.ConnectionString };

    /// <summary>The collection alone: no staging collection is left, nor push-data's lease collection.</summary>
    protected void AssertNoStaging(MongoOptions options) => Assert.Equal([options.Collection], Server.CollectionNames(options.Database));

    protected MongoOptions TestServerOptions(int batchSize = 1000) => new()
    {
        ConnectionString = Server.ConnectionString,
        Database = "networksecurity_tests",
        Collection = "c" + Guid.NewGuid().ToString("N")[..8],
        BatchSize = batchSize,
        ServerSelectionTimeout = TimeSpan.FromSeconds(5),
    };
}

/// <summary>Keeps every formatted log line, to check what reaches the logs.</summary>
public sealed class CapturingLogger : ILogger
{
    public List<string> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines)
        {
            Lines.Add(formatter(state, exception) + (exception is null ? "" : " " + exception));
        }
    }
}
