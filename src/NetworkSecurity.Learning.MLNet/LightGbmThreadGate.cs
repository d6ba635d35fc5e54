namespace NetworkSecurity.Learning.MLNet;

/// <summary>
/// Lets LightGBM fits overlap only when they use the same thread count. LightGBM sets OpenMP's thread count for the
/// whole process and sizes per-thread buffers by it, so a fit on two threads beside one on one thread can index past a
/// buffer and crash the process (seen here once in a test run; the same crash is documented in dotnet/machinelearning
/// #4918). Fits with equal counts, as in a search's parallel folds, still run side by side.
/// </summary>
internal static class LightGbmThreadGate
{
    private static readonly object Gate = new();
    private static int _threads;
    private static int _running;

    public static IDisposable Enter(int threads)
    {
        lock (Gate)
        {
            while (_running > 0 && _threads != threads)
            {
                Monitor.Wait(Gate);
            }

            _threads = threads;
            _running++;
        }

        return new Release();
    }

    private sealed class Release : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1)
            {
                return;
            }

            lock (Gate)
            {
                if (--_running == 0)
                {
                    Monitor.PulseAll(Gate);
                }
            }
        }
    }
}
