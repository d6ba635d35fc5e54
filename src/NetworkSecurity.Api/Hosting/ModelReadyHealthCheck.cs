using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetworkSecurity.Api.Models;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Ready means a model is loaded: until then the service cannot predict.</summary>
public sealed class ModelReadyHealthCheck(LiveModel live) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(live.Current is { } model
            ? HealthCheckResult.Healthy($"model {model.Version}")
            : HealthCheckResult.Unhealthy("no model loaded yet"));
}
