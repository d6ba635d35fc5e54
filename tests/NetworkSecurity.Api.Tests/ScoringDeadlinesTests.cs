using NetworkSecurity.Api.Hosting;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The scoring budget is cancelled by a thread of its own: CancelAfter's timer callback waits for a thread-pool thread,
/// and concurrent scoring kept the pool busy long past the budget (four explain=all uploads with 5 s: 17–22 s, two 200s).
/// </summary>
public sealed class ScoringDeadlinesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30); // how long a test waits at most, not a measure

    [Fact]
    public void The_budget_is_cancelled_from_a_thread_outside_the_thread_pool()
    {
        using var budget = new CancellationTokenSource();
        var onPool = true;
        using var called = new ManualResetEventSlim();
        // The token's wait handle is set before its callbacks run: wait for the callback itself.
        using var callback = budget.Token.Register(() =>
        {
            onPool = Thread.CurrentThread.IsThreadPoolThread;
            called.Set();
        });

        using var deadline = ScoringDeadlines.CancelAfter(budget, TimeSpan.FromMilliseconds(1));

        Assert.True(called.Wait(Patience), "the deadline never fired");
        Assert.False(onPool, "cancelled on a thread-pool thread, which busy scoring can hold up");
    }

    [Fact]
    public void An_earlier_deadline_fires_before_a_later_one_and_a_disposed_one_never_fires()
    {
        using var late = new CancellationTokenSource();
        using var withdrawn = new CancellationTokenSource();
        using var early = new CancellationTokenSource();
        using var lateDeadline = ScoringDeadlines.CancelAfter(late, TimeSpan.FromHours(1));
        ScoringDeadlines.CancelAfter(withdrawn, TimeSpan.FromSeconds(1)).Dispose(); // the request ended before its deadline
        using var earlyDeadline = ScoringDeadlines.CancelAfter(early, TimeSpan.FromSeconds(1.5));

        Assert.True(early.Token.WaitHandle.WaitOne(Patience), "the earlier deadline waited behind the later one");
        Assert.False(late.IsCancellationRequested);
        Assert.False(withdrawn.IsCancellationRequested);
    }

    [Fact]
    public void A_token_source_disposed_before_its_deadline_does_not_stop_the_deadlines_after_it()
    {
        var disposed = new CancellationTokenSource();
        _ = ScoringDeadlines.CancelAfter(disposed, TimeSpan.Zero); // never withdrawn: Cancel meets a disposed source
        disposed.Dispose();
        using var next = new CancellationTokenSource();
        using var deadline = ScoringDeadlines.CancelAfter(next, TimeSpan.FromMilliseconds(5));

        Assert.True(next.Token.WaitHandle.WaitOne(Patience), "the deadline thread stopped at a disposed token source");
    }
}
