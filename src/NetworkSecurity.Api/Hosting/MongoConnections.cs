using System.Collections.Concurrent;
using NetworkSecurity.MongoDb;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// The service's open MongoDB clients (pool and server monitoring), one per connection string, kept between readiness
/// checks and disposed with the host. One whose opening failed, for whatever reason, is opened again next time.
/// </summary>
public sealed class MongoConnections : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<MongoConnection>>> _connections = new(StringComparer.Ordinal);

    public async Task<MongoConnection> GetAsync(MongoOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var opening = _connections.GetOrAdd(options.ConnectionString, _ => new Lazy<Task<MongoConnection>>(() => MongoConnection.OpenAsync(options, CancellationToken.None)));
        try
        {
            return await opening.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (opening.Value.IsFaulted || opening.Value.IsCanceled)
        {
            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<MongoConnection>>>(options.ConnectionString, opening));
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var opening in _connections.Values)
        {
            if (opening.IsValueCreated && opening.Value.IsCompletedSuccessfully)
            {
                opening.Value.Result.Dispose();
            }
        }

        _connections.Clear();
    }
}
