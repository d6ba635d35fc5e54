namespace NetworkSecurity.Learning.MLNet.Tests;

/// <summary>LightGBM fits overlap only with fits of the same thread count.</summary>
public sealed class LightGbmThreadGateTests
{
    [Fact]
    public async Task Fits_with_the_same_thread_count_overlap_and_another_count_waits_for_them()
    {
        // Counts no real fit in the test run uses, so other tests' LightGBM fits are not held up.
        var first = LightGbmThreadGate.Enter(101);
        var second = await Task.Run(() => LightGbmThreadGate.Enter(101)).WaitAsync(TimeSpan.FromSeconds(10)); // same count: no wait
        var other = Task.Run(() => LightGbmThreadGate.Enter(102));
        await Task.Delay(200);
        Assert.False(other.IsCompleted); // another count waits while either is running

        first.Dispose();
        await Task.Delay(100);
        Assert.False(other.IsCompleted);
        second.Dispose();
        second.Dispose(); // a second release is harmless
        var third = await other.WaitAsync(TimeSpan.FromSeconds(10));
        third.Dispose();
        LightGbmThreadGate.Enter(1).Dispose(); // and the gate is open again for the usual count
    }
}
