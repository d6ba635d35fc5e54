using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Models;

/// <summary>
/// The model the API serves. Swapped atomically: a request takes <see cref="Current"/> once and finishes on that
/// bundle even if a newer one is swapped in meanwhile; later requests see the new one. Every load checks the version's
/// manifest; a damaged version (or a CURRENT naming a missing folder) is skipped for the newest valid older one, and
/// <see cref="Status"/> says which version is live and why.
/// </summary>
public sealed class LiveModel(PipelineOptions options, DataSchema schema, ILogger<LiveModel> logger)
{
    /// <summary>Staging folders younger than this may belong to a promotion in progress in another process.</summary>
    private static readonly TimeSpan AbandonedStagingAge = TimeSpan.FromMinutes(10);

    private ModelBundle? _current;
    private ServingStatus _status = new(null, "no model loaded yet", []);
    private int _cleaned;
    private readonly Lock _reloading = new();

    public ModelBundle? Current => Volatile.Read(ref _current);

    /// <summary>Which version is live and why (fallback reasons included).</summary>
    public ServingStatus Status => Volatile.Read(ref _status);

    public DataSchema Schema => schema;

    public ModelStore Store { get; } = new(options.FinalModelDirectory, options.ModelVersionsKept);

    /// <summary>
    /// Loads the version that final_model/CURRENT names (or the newest valid older one); keeps the served model if none
    /// loads. The first call also removes staging folders left by killed runs.
    /// </summary>
    public bool TryReload()
    {
        // One reload at a time (the worker after a promotion, the replica sync, start-up): a slower call that read an
        // older CURRENT must not swap its bundle in over the one a later call loaded.
        lock (_reloading)
        {
            return Reload();
        }
    }

    private bool Reload()
    {
        if (Interlocked.Exchange(ref _cleaned, 1) == 0)
        {
            RemoveAbandonedStaging();
        }

        ModelLoadResult result;
        try
        {
            result = Store.LoadLatestValid(schema);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogError("Could not read the model folder {Directory}: {Error}", Store.Directory, ex.Message);
            return false;
        }

        foreach (var skipped in result.Skipped)
        {
            logger.LogError("Model {Version} in {Directory} was skipped: {Reason}", skipped.Version, Store.Directory, skipped.Reason);
        }

        if (result.Bundle is not { } bundle)
        {
            if (result.Skipped.Count > 0)
            {
                logger.LogError("No valid model in {Directory}{Keeping}", Store.Directory, Current is { } kept ? $"; still serving {kept.Version}" : "");
                if (Current is null)
                {
                    Volatile.Write(ref _status, new ServingStatus(null, "no valid model: " + string.Join(" ", result.Skipped.Select(s => $"{s.Version}: {s.Reason}")), result.Skipped));
                }
            }

            return false;
        }

        var reason = result.IsFallback
            ? result.PointedVersion is null
                ? $"fallback: {result.Skipped[0].Reason}; serving the newest valid version"
                : $"fallback: CURRENT names {result.PointedVersion}, which could not be loaded ({result.Skipped[0].Reason}); serving the newest valid older version"
            : "CURRENT names it and its files match their manifest";
        Volatile.Write(ref _status, new ServingStatus(bundle.Version, reason, result.Skipped));
        var previous = Interlocked.Exchange(ref _current, bundle);
        if (previous?.Version != bundle.Version)
        {
            logger.LogInformation("Serving model {Version} ({Learner}, {Measure} {F1:0.0000}): {Reason}", bundle.Version, bundle.Card.Learner,
                bundle.Card.Test is null ? "cross-validated F1" : "test F1", bundle.Card.Test?.Legitimate.F1 ?? bundle.Card.CvF1 ?? double.NaN, reason);
        }

        return true;
    }

    /// <summary>Serves <paramref name="bundle"/> from now on (used by tests and by the training worker).</summary>
    public void Swap(ModelBundle bundle)
    {
        lock (_reloading)
        {
            Volatile.Write(ref _status, new ServingStatus(bundle.Version, "swapped in directly", []));
            Interlocked.Exchange(ref _current, bundle);
        }
    }

    private void RemoveAbandonedStaging()
    {
        try
        {
            foreach (var name in Store.RemoveAbandonedStaging(AbandonedStagingAge))
            {
                logger.LogWarning("Removed {Staging} from {Directory}: left by a promotion that never finished", name, Store.Directory);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not clean staging folders in {Directory}: {Error}", Store.Directory, ex.Message);
        }
    }
}

/// <summary>The live version (null: none), why it is the one served, and the versions skipped on the way.</summary>
public sealed record ServingStatus(string? Version, string Reason, IReadOnlyList<SkippedVersion> Skipped)
{
    public bool IsFallback => Version is not null && Skipped.Count > 0;
}
