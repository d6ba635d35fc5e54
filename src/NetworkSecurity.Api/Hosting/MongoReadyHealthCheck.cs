using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetworkSecurity.MongoDb;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// When MongoDB is configured, ready also means it answers a ping (retraining reads from it). The driver's client is
/// kept between checks in <see cref="MongoConnections"/>.
/// </summary>
public sealed class MongoReadyHealthCheck(IConfiguration configuration, MongoConnections connections) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

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
        // The URI's serverSelectionTimeoutMS may be long: a probe must still answer promptly.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout + Timeout);
        try
        {
            var connection = await connections.GetAsync(options, deadline.Token).ConfigureAwait(false);
            await connection.PingAsync(deadline.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"MongoDB answers at {options.Redacted}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"MongoDB at {options.Redacted} did not answer a ping within {(Timeout + Timeout).TotalSeconds:0} s.");
        }
        catch (MongoException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }
}
