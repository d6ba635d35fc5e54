namespace NetworkSecurity.Api.Replication;

/// <summary>Where each served model version came from (trained here, pulled from S3, found on disk), for /model and the log.</summary>
public sealed class ModelOrigin
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _origins = new(StringComparer.Ordinal);

    public void Record(string version, string origin)
    {
        lock (_gate)
        {
            _origins[version] = origin;
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
