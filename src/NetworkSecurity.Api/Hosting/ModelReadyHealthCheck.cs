using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Ready means a model is loaded: until then the service cannot predict. Serving an older version because the one
/// CURRENT names is damaged or missing is Degraded (still ready, HTTP 200), with the reason. With no model and a
/// failed last training run (or one whose model the quality gate refused), the reason is that run's error or the
/// gate's: nothing will come by waiting; nor when the service does not
/// train by itself and nobody asked it to. A run under way is named, so that a probe's log says what is awaited.
/// </summary>
public sealed class ModelReadyHealthCheck(LiveModel live, TrainingJobQueue jobs, StoreLatest latest, IOptions<ApiOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = live.Status;
        var data = new Dictionary<string, object> { ["version"] = live.Current?.Version ?? "", ["reason"] = status.Reason };
        // A replica left behind the fleet (LATEST names a version it does not serve) says which and why; still ready, as
        // it serves a model.
        var behind = "";
        if (latest.Current is { } store)
        {
            data["store_latest"] = store.Version ?? "";
            if (store.NotServedBecause is { } why)
            {
                data["store_latest_not_served_because"] = why;
                behind = store.Version is { } version ? $"; {store.Location} names {version}, not served: {why}" : $"; {store.Location}: {why}";
            }
        }

        return Task.FromResult(live.Current is { } model
            ? status.IsFallback
                ? HealthCheckResult.Degraded($"model {model.Version} ({status.Reason}){behind}", data: data)
                : HealthCheckResult.Healthy($"model {model.Version} ({status.Reason}){behind}", data)
            : HealthCheckResult.Unhealthy(NoModel(jobs.Latest?.Status, status.Reason) + behind, data: data));
    }

    private string NoModel(TrainingJobStatus? job, string reason) => job switch
    {
        { } ended when ended.WhyNoModel() is { } why => $"no model loaded: {why}",
        { State: TrainingJobState.Queued or TrainingJobState.Running } => $"no model loaded yet: training job {job.Id} is {job.State.ToString().ToLowerInvariant()}",
        null when !options.Value.TrainOnStartup => "no model loaded, and none is being trained (Api:TrainOnStartup is off): POST /train to train one",
        _ => $"no model loaded ({reason})",
    };
}
