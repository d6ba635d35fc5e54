using Microsoft.Extensions.Diagnostics.HealthChecks;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Training;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Ready means a model is loaded: until then the service cannot predict. Serving an older version because the one
/// CURRENT names is damaged or missing is Degraded (still ready, HTTP 200), with the reason. With no model and a
/// failed last training run, the reason is that run's error: nothing will come by waiting.
/// </summary>
public sealed class ModelReadyHealthCheck(LiveModel live, TrainingJobQueue jobs) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = live.Status;
        var data = new Dictionary<string, object> { ["version"] = live.Current?.Version ?? "", ["reason"] = status.Reason };
        return Task.FromResult(live.Current is { } model
            ? status.IsFallback
                ? HealthCheckResult.Degraded($"model {model.Version} ({status.Reason})", data: data)
                : HealthCheckResult.Healthy($"model {model.Version} ({status.Reason})", data)
            : HealthCheckResult.Unhealthy(jobs.Latest?.Status is { State: TrainingJobState.Failed } failed
                ? $"no model loaded: training job {failed.Id} failed: {failed.Error}"
                : $"no model loaded ({status.Reason})", data: data));
    }
}
