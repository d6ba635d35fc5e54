using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;

namespace NetworkSecurity.Api.Models;

/// <summary>
/// Follows final_model/ when another process changes it: a model that the CLI's <c>train</c> promotes beside the
/// running service (or a CURRENT set back by hand) is served within Replication:PollSeconds, as it would be after a
/// restart, and so is the newest valid version once the served version's folder is removed (pruned by another
/// process's promotions). A check reads one small file. Each change is acted on once: a CURRENT naming a version that
/// cannot be loaded is reported once and the served model kept, until CURRENT changes again.
/// </summary>
public sealed class ModelFolderWatcher(LiveModel live, IOptions<ReplicationOptions> options, ILogger<ModelFolderWatcher> logger) : BackgroundService
{
    private string? _seenPointer;
    private string? _seenGone;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _seenPointer = ReadPointer();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.PollSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                CheckOnce();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reloads when CURRENT names another version than last time, or the served version's folder is gone.</summary>
    internal void CheckOnce()
    {
        var pointer = ReadPointer();
        var serving = live.Current?.Version;
        var gone = serving is not null && !Directory.Exists(Path.Combine(live.Store.Directory, serving)) ? serving : null;
        var pointerMoved = pointer is not null && pointer != _seenPointer && pointer != serving;
        var folderLost = gone is not null && gone != _seenGone;
        _seenPointer = pointer;
        _seenGone = gone;
        if (!pointerMoved && !folderLost)
        {
            return;
        }

        var why = folderLost ? $"the folder of the served version {gone} was removed" : $"CURRENT now names {pointer}";
        if (live.TryReload() && live.Current?.Version is { } now && now != serving)
        {
            logger.LogInformation("Model folder {Directory} changed outside this service ({Why}): now serving {Version}", live.Store.Directory, why, now);
        }
        else
        {
            logger.LogWarning("Model folder {Directory} changed outside this service ({Why}), but no other valid version could be loaded; still serving {Version} (see /model)",
                live.Store.Directory, why, serving ?? "nothing");
        }
    }

    private string? ReadPointer()
    {
        try
        {
            return live.Store.PointedVersion;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return _seenPointer; // being replaced, or unreadable for a moment: the next check reads it again
        }
    }
}
