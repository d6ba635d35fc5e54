namespace NetworkSecurity.MongoDb;

/// <summary>
/// A push without --drop stopped (Ctrl+C, SIGTERM) while a batch was on its way: the server had acknowledged
/// <see cref="Stored"/> documents, and may have stored some or all of records <see cref="FirstUnacknowledged"/>–<see cref="LastUnacknowledged"/> too
/// (it does not stop with the client).
/// </summary>
public sealed class PushStoppedException(long stored, long firstUnacknowledged, long lastUnacknowledged, OperationCanceledException innerException)
    : OperationCanceledException(
        $"push-data was stopped after {stored} documents were stored, while records {firstUnacknowledged}–{lastUnacknowledged} were sent but not acknowledged: some or all of them may be stored too.",
        innerException,
        innerException.CancellationToken)
{
    public long Stored { get; } = stored;

    public long FirstUnacknowledged { get; } = firstUnacknowledged;

    public long LastUnacknowledged { get; } = lastUnacknowledged;
}
