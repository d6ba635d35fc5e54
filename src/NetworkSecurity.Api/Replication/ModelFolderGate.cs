namespace NetworkSecurity.Api.Replication;

/// <summary>
/// Serialises the two things that download models into final_model/ (the start-up pull and the model sync), so they
/// never move the same version into place at the same time.
/// </summary>
public sealed class ModelFolderGate : IDisposable
{
    public SemaphoreSlim Lock { get; } = new(1, 1);

    public void Dispose() => Lock.Dispose();
}
