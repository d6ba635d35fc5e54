using System.Diagnostics;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Cancels a request's scoring budget at its deadline from a thread of its own. <c>CancellationTokenSource.CancelAfter</c>
/// fires through the thread pool, which concurrent scoring keeps busy (request threads wait on chunks that explain in
/// parallel): four explain=all uploads with a 5 s budget answered after 17–22 s, two of them 200, and four 49 MB ones
/// with the default 30 s ran for 89–119 s and 3.2 GB.
/// </summary>
public static class ScoringDeadlines
{
    private static readonly object Gate = new(); // Monitor.Wait/Pulse: not a System.Threading.Lock
    private static readonly SortedSet<Entry> Pending = new(Comparer<Entry>.Create(static (a, b) =>
        a.Due != b.Due ? a.Due.CompareTo(b.Due) : a.Id.CompareTo(b.Id)));

    private static long _nextId;
    private static Thread? _thread;

    /// <summary>Cancels <paramref name="source"/> after <paramref name="delay"/> unless the result is disposed first.</summary>
    public static Registration CancelAfter(CancellationTokenSource source, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(source);
        var entry = new Entry(Stopwatch.GetTimestamp() + (long)(Math.Max(0, delay.TotalSeconds) * Stopwatch.Frequency), Interlocked.Increment(ref _nextId), source);
        lock (Gate)
        {
            Pending.Add(entry);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "Scoring deadlines" };
                _thread.Start();
            }
            else if (Pending.Min == entry)
            {
                Monitor.Pulse(Gate); // sooner than the one being waited for
            }
        }

        return new Registration(entry);
    }

    private static void Run()
    {
        while (true)
        {
            Entry expired;
            lock (Gate)
            {
                while (true)
                {
                    if (Pending.Count == 0)
                    {
                        Monitor.Wait(Gate);
                        continue;
                    }

                    var first = Pending.Min!;
                    var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), first.Due);
                    if (remaining <= TimeSpan.Zero)
                    {
                        Pending.Remove(first);
                        expired = first;
                        break;
                    }

                    Monitor.Wait(Gate, remaining < TimeSpan.FromSeconds(1) ? remaining + TimeSpan.FromMilliseconds(1) : TimeSpan.FromSeconds(1));
                }
            }

            try
            {
                expired.Source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The request ended meanwhile.
            }
            catch (AggregateException)
            {
                // A callback registered on the budget failed: that request's own code hears of the cancellation anyway.
            }
        }
    }

    internal sealed record Entry(long Due, long Id, CancellationTokenSource Source);

    /// <summary>Dispose when the work is done, so the deadline no longer holds the token source.</summary>
    public readonly struct Registration : IDisposable
    {
        private readonly Entry? _entry;

        internal Registration(Entry entry) => _entry = entry;

        public void Dispose()
        {
            if (_entry is not null)
            {
                lock (Gate)
                {
                    Pending.Remove(_entry);
                }
            }
        }
    }
}
