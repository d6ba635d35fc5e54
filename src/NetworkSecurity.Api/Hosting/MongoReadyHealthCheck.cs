using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetworkSecurity.MongoDb;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// When MongoDB is configured, ready also means it answers a ping (retraining reads from it). The driver's client
/// (its pool and server monitoring) is kept between checks, one per connection string; one that failed to open
/// (e.g. the SRV lookup) is opened again at the next check.
/// </summary>
public sealed class MongoReadyHealthCheck(IConfiguration configuration) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private static readonly ConcurrentDictionary<string, Lazy<Task<MongoConnection>>> Connections = new(StringComparer.Ordinal);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        MongoOptions? options;
        try
        {
            options = MongoOptions.FromEnvironment(key => configuration[key]);
        }
        catch (NetworkSecurity.Pipeline.PipelineException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }

        if (options is null)
        {
            return HealthCheckResult.Healthy("MongoDB not configured");
        }

        options = options with { ServerSelectionTimeout = Timeout };
        var opening = Connections.GetOrAdd(options.ConnectionString, _ => new Lazy<Task<MongoConnection>>(() => MongoConnection.OpenAsync(options, CancellationToken.None)));
        // The URI's serverSelectionTimeoutMS may be long: a probe must still answer promptly.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout + Timeout);
        try
        {
            var connection = await opening.Value.WaitAsync(deadline.Token).ConfigureAwait(false);
            await connection.PingAsync(deadline.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"MongoDB answers at {options.Redacted}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"MongoDB at {options.Redacted} did not answer a ping within {(Timeout + Timeout).TotalSeconds:0} s.");
        }
        catch (MongoException ex)
        {
            if (opening.Value.IsFaulted)
            {
                Connections.TryRemove(new KeyValuePair<string, Lazy<Task<MongoConnection>>>(options.ConnectionString, opening));
            }

            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }
}
