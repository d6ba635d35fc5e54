namespace NetworkSecurity.Api.Replication;

/// <summary>
/// What final_model/LATEST in object storage named at the model sync's last look and, when this replica does not serve
/// that version, why: for GET /model and readiness, so a replica left behind says so where an operator looks (the log
/// says it once). Null without object storage or before the first look.
/// </summary>
public sealed class StoreLatest
{
    private LatestInStore? _current;

    public LatestInStore? Current => Volatile.Read(ref _current);

    public void Set(LatestInStore? latest) => Volatile.Write(ref _current, latest);
}

/// <summary>
/// Where LATEST is, the version it names (null: none published yet), and why it is not served here (null: it is);
/// <paramref name="Unusable"/> when that is because the version was downloaded and does not load.
/// </summary>
public sealed record LatestInStore(string Location, string? Version, string? NotServedBecause, bool Unusable = false)
{
    /// <summary>Why <paramref name="version"/> cannot be served, when LATEST names it and this replica found it unusable.</summary>
    public string? UnusableReason(string version) => Unusable && Version == version ? NotServedBecause : null;
}
