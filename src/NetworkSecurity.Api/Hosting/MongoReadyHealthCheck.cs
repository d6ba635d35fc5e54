using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetworkSecurity.MongoDb;

namespace NetworkSecurity.Api.Hosting;

/// <summary>When MongoDB is configured, ready also means it answers a ping (retraining reads from it).</summary>
public sealed class MongoReadyHealthCheck(IConfiguration configuration) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (MongoOptions.FromEnvironment(key => configuration[key]) is not { } options)
        {
            return Task.FromResult(HealthCheckResult.Healthy("MongoDB not configured"));
        }

        try
        {
            using var connection = new MongoConnection(options with { ServerSelectionTimeout = TimeSpan.FromSeconds(2) });
            connection.Ping();
            return Task.FromResult(HealthCheckResult.Healthy("MongoDB answers"));
        }
        catch (MongoException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ex.Message));
        }
    }
}
