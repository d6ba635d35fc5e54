namespace NetworkSecurity.Api.Hosting;

/// <summary>Gives back to the system the heap that work which has ended grew (a training run, a burst of large uploads).</summary>
internal static class Heap
{
    /// <summary>
    /// One aggressive, compacting collection, the large object heap included: without it the GC keeps the memory committed
    /// once nothing allocates. Its pause (tens of milliseconds) belongs after such work, never per request.
    /// </summary>
    public static void GiveBack()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
