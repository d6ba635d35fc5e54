using Microsoft.Extensions.Options;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// How many large POST /predict uploads and POST /predict/json bodies are scored at once (Api:MaxConcurrentUploads). Each one is bounded on its own
/// (scoring a 49 MB upload adds about 100–300 MB beside its bytes, and takes seconds of both cores), but without a bound
/// on their number memory grew with the uploads in flight: eight 49 MB ones at once took 1 GB more, enough for a burst
/// to get a container with a 2 GiB limit killed. A slot is taken once the body is in and given back before the answer
/// is written, so neither a slow sender nor a slow reader holds one; uploads up to <see cref="LargeUploadBytes"/>
/// never wait.
/// </summary>
public sealed class UploadSlots(IOptions<ApiOptions> options) : IDisposable
{
    /// <summary>Uploads of at most this many bytes are scored without a slot.</summary>
    public const long LargeUploadBytes = 1L << 20;

    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentUploads, options.Value.MaxConcurrentUploads);

    public int Limit { get; } = options.Value.MaxConcurrentUploads;

    /// <summary>Large uploads being scored now, one slot each.</summary>
    public int Scoring => Limit - _slots.CurrentCount;

    public static bool IsLarge(long bytes) => bytes > LargeUploadBytes;

    // Bytes the large bodies in flight hold (Api:MaxUploadBytesInFlight): the slots bound only the scoring, and 24 49 MB
    // uploads sent at once held 2 GB while they waited for one (12 slow readers, 1 GB for hours: a reader at 1 byte a
    // second keeps Kestrel's minimum response rate satisfied for about as long as its answer allows). At least one body
    // at the limit fits, so a larger MaxUploadBytes alone never refuses every upload.
    private long _held;

    /// <summary>Bytes large bodies may hold at once.</summary>
    public long ByteBudget { get; } = Math.Max(options.Value.MaxUploadBytesInFlight, Math.Max(options.Value.MaxUploadBytes, options.Value.MaxJsonBytes));

    /// <summary>
    /// What <paramref name="explanations"/> hold until the answer is written: an object per distinct one (records with the
    /// same features share theirs) and per feature in it, about 1.8 KB with 30. Counted with the upload's bytes: 30
    /// clients reading the explained answers of 1 MiB uploads at a byte a second held 1.2 GB, uploads that small being
    /// counted for nothing.
    /// </summary>
    public static long ExplanationBytes(IReadOnlyList<Pipeline.Prediction.VerdictExplanation> explanations) => new ExplanationTally().Add(explanations);

    /// <summary><see cref="ExplanationBytes"/> of explanations that come a chunk at a time, as a CSV upload is scored.</summary>
    public sealed class ExplanationTally
    {
        private readonly HashSet<object> _distinct = new(ReferenceEqualityComparer.Instance);

        /// <summary>What the explanations counted so far hold.</summary>
        public long Bytes { get; private set; }

        /// <summary>Counts <paramref name="explanations"/> beside those before (one shared by records before is not counted again); the total so far.</summary>
        public long Add(IReadOnlyList<Pipeline.Prediction.VerdictExplanation> explanations)
        {
            ArgumentNullException.ThrowIfNull(explanations);
            var bytes = 8L * explanations.Count;
            foreach (var explanation in explanations)
            {
                if (_distinct.Add(explanation))
                {
                    bytes += 64 + (56L * explanation.Features.Count);
                }
            }

            return Bytes += bytes;
        }
    }

    /// <summary>
    /// What scoring a body of <paramref name="bytes"/> may take, for the choice of a slot: its bytes, and with
    /// explanations of <paramref name="explainTop"/> features what they may hold, a record per 62 bytes (the shortest
    /// CSV row of 30 ternary features) at the size <see cref="ExplanationBytes"/> counts. 30 explained 1 MiB uploads,
    /// small enough to take no slot, were scored at once and raised the process by 800 MB in seconds.
    /// </summary>
    public static long ScoringBytes(long bytes, int explainTop) =>
        explainTop <= 0 ? bytes : bytes + ((bytes / 62) * (72 + (56L * explainTop)));

    /// <summary>Bytes the large bodies in flight hold now.</summary>
    public long HeldBytes => Interlocked.Read(ref _held);

    /// <summary>How long no large body must be held before the heap they grew is given back (see <see cref="TrimHeap"/>).</summary>
    public static readonly TimeSpan TrimDelay = TimeSpan.FromSeconds(2);

    private Timer? _trim;
    private int _trims;

    /// <summary>Collections made after a burst of large bodies ended.</summary>
    public int HeapTrims => Volatile.Read(ref _trims);

    // The last large body let go: the heap is given back once none has come for TrimDelay (each one's end starts the wait
    // again, so a steady stream of them is never paused for it).
    private void Released()
    {
        if (HeldBytes == 0)
        {
            try
            {
                LazyInitializer.EnsureInitialized(ref _trim, () => new Timer(static state => ((UploadSlots)state!).TrimHeap(), this, Timeout.Infinite, Timeout.Infinite))
                    .Change(TrimDelay, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // An answer that ended as the host stopped: nothing is left to give back to.
            }
        }
    }

    /// <summary>
    /// After a burst nothing allocates, so nothing collects, and the heap the bodies and their scoring grew stayed
    /// committed: 20 uploads of 110,550 rows left the service at 348 MB instead of 123 MB, a minute later still. One
    /// aggressive, compacting collection gives it back; its pause (short: the bodies are dead by now) comes once
    /// per burst, as TrainingWorker's comes once per run.
    /// </summary>
    private void TrimHeap()
    {
        if (HeldBytes != 0)
        {
            return; // a new burst: its end waits again
        }

        Heap.GiveBack();
        Interlocked.Increment(ref _trims);
    }

    public void Dispose()
    {
        _trim?.Dispose();
        _slots.Dispose();
    }

    /// <summary>What one request's body holds, counted against <see cref="ByteBudget"/> until disposed (at the end of the response).</summary>
    public Reservation Reserve() => new(this);

    private bool TryAdd(long bytes)
    {
        if (Interlocked.Add(ref _held, bytes) <= ByteBudget)
        {
            return true;
        }

        Interlocked.Add(ref _held, -bytes);
        return false;
    }

    /// <summary>A slot, released when the result is disposed; null when none came free in time.</summary>
    public async Task<IDisposable?> TryEnterAsync(TimeSpan wait, CancellationToken cancellationToken) =>
        await _slots.WaitAsync(wait, cancellationToken).ConfigureAwait(false) ? new Slot(_slots) : null;

    /// <summary>The bytes one request's body holds: nothing up to <see cref="LargeUploadBytes"/>, then all of its buffer.</summary>
    public sealed class Reservation(UploadSlots owner) : IDisposable
    {
        private long _bytes;

        /// <summary>Whether the body may hold <paramref name="bytes"/> in all; false when the budget has no room for them.</summary>
        public bool TryGrow(long bytes)
        {
            if (bytes <= _bytes || !IsLarge(bytes))
            {
                return true;
            }

            if (!owner.TryAdd(bytes - _bytes))
            {
                return false;
            }

            _bytes = bytes;
            return true;
        }

        public void Dispose()
        {
            var bytes = Interlocked.Exchange(ref _bytes, 0);
            if (bytes > 0)
            {
                Interlocked.Add(ref owner._held, -bytes);
                owner.Released();
            }
        }
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
