namespace NetworkSecurity.Api.Replication;

/// <summary>Where each served model version came from (trained here, pulled from S3, found on disk), for /model and the log.</summary>
public sealed class ModelOrigin
{
    /// <summary>
    /// Versions remembered, the most recently recorded: one was added per training run and none ever left, so a service
    /// retraining every few minutes grew for as long as it ran. Far more than the versions a store keeps
    /// (Pipeline:ModelVersionsKept), which are the only ones a fallback can serve.
    /// </summary>
    public const int Kept = 100;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _origins = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public void Record(string version, string origin)
    {
        lock (_gate)
        {
            if (_origins.TryAdd(version, origin))
            {
                _order.Enqueue(version);
                while (_order.Count > Kept)
                {
                    _origins.Remove(_order.Dequeue());
                }
            }
            else
            {
                _origins[version] = origin;
            }
        }
    }

    public string Describe(string version)
    {
        lock (_gate)
        {
            return _origins.TryGetValue(version, out var origin) ? origin : "local model folder";
        }
    }
}
