using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetworkSecurity.Api.Models;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Ready means a model is loaded: until then the service cannot predict. Serving an older version because the one
/// CURRENT names is damaged or missing is Degraded (still ready, HTTP 200), with the reason.
/// </summary>
public sealed class ModelReadyHealthCheck(LiveModel live) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = live.Status;
        var data = new Dictionary<string, object> { ["version"] = live.Current?.Version ?? "", ["reason"] = status.Reason };
        return Task.FromResult(live.Current is { } model
            ? status.IsFallback
                ? HealthCheckResult.Degraded($"model {model.Version} ({status.Reason})", data: data)
                : HealthCheckResult.Healthy($"model {model.Version} ({status.Reason})", data)
            : HealthCheckResult.Unhealthy($"no model loaded ({status.Reason})", data: data));
    }
}
