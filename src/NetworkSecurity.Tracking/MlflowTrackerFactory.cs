using Microsoft.Extensions.Logging;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Tracking;

/// <summary>Chooses the tracker by MLFLOW_TRACKING_URI: a server (REST API) for http(s), else the local file store.</summary>
public static class MlflowTrackerFactory
{
    public static IExperimentTracker Create(MlflowOptions options, ILogger logger) =>
        options.IsServer
            ? new MlflowRestTracker(options, new HttpClient { Timeout = options.RequestTimeout }, logger)
            : MlflowFileStoreTracker.FromTrackingUri(options.TrackingUri);
}
