namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Raises the thread pool's minimum of worker threads for the service. Scoring a large upload runs parallel loops whose
/// workers hold pool threads for seconds, picking up their own follow-on work first; past the minimum the pool adds a
/// thread only every half second or so, and a one-record /predict/json waited 13 s for one during four 100,000-row
/// explain=all uploads (0.2–0.3 s with this floor). Threads up to the floor are made at once when work waits; idle ones cost
/// their stack only. A higher minimum set by the operator (DOTNET_ThreadPool_ForceMinWorkerThreads) is kept.
/// </summary>
public static class ThreadPoolFloor
{
    public const int WorkersPerCore = 8;

    public static void Raise()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        var floor = WorkersPerCore * Environment.ProcessorCount;
        if (workers < floor)
        {
            ThreadPool.SetMinThreads(floor, completionPorts);
        }
    }
}
