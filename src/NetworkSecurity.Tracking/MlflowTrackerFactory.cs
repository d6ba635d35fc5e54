using Microsoft.Extensions.Logging;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking;

/// <summary>Chooses the tracker by MLFLOW_TRACKING_URI: a server (REST API) for http(s), else the local file store.</summary>
public static class MlflowTrackerFactory
{
    // The REST tracker times each request itself (MlflowOptions.RequestTimeout) and retries within its budget.
    public static IExperimentTracker Create(MlflowOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.IsServer
            ? new MlflowRestTracker(options, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, logger)
            : MlflowFileStoreTracker.FromTrackingUri(options.TrackingUri);
    }
}
