namespace NetworkSecurity.Storage;

/// <summary>
/// The object store's own notion of time, learnt from the Date header of its answers (1 s resolution). Lease expiries
/// are computed and compared on this clock, so replicas whose own clocks disagree still agree on when a lease lapses.
/// Until the store has answered once, the local clock is used.
/// </summary>
public sealed class StoreClock(TimeProvider local)
{
    private long _offsetTicks;
    private int _observed;

    public bool HasObserved => Volatile.Read(ref _observed) == 1;

    /// <summary>Local clock minus store clock, as last observed.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(-Interlocked.Read(ref _offsetTicks));

    public DateTimeOffset UtcNow => local.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>This clock as a TimeProvider (wall time only; timers and timestamps stay local).</summary>
    public TimeProvider AsTimeProvider() => new StoreTimeProvider(this);

    internal void Observe(DateTimeOffset storeDate)
    {
        // The header is truncated to the second: add half a second so the estimate is unbiased.
        var offset = storeDate.AddMilliseconds(500) - local.GetUtcNow();
        Interlocked.Exchange(ref _offsetTicks, offset.Ticks);
        Volatile.Write(ref _observed, 1);
    }
}

/// <summary>Wall time read from a <see cref="StoreClock"/>.</summary>
internal sealed class StoreTimeProvider(StoreClock clock) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => clock.UtcNow;
}
