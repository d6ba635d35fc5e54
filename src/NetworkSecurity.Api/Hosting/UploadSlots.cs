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
public sealed class UploadSlots(IOptions<ApiOptions> options)
{
    /// <summary>Uploads of at most this many bytes are scored without a slot.</summary>
    public const long LargeUploadBytes = 1L << 20;

    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentUploads, options.Value.MaxConcurrentUploads);

    public int Limit { get; } = options.Value.MaxConcurrentUploads;

    public static bool IsLarge(long bytes) => bytes > LargeUploadBytes;

    /// <summary>A slot, released when the result is disposed; null when none came free in time.</summary>
    public async Task<IDisposable?> TryEnterAsync(TimeSpan wait, CancellationToken cancellationToken) =>
        await _slots.WaitAsync(wait, cancellationToken).ConfigureAwait(false) ? new Slot(_slots) : null;

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
