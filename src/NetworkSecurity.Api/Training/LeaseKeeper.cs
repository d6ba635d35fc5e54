using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Training;

/// <summary>
/// Renews a held training lease every third of its duration until released; a lost lease is logged and said to
/// <c>onLost</c> (the job's status), since the job goes on: another replica may be training meanwhile.
/// </summary>
internal sealed class LeaseKeeper
{
    private readonly ITrainingLease _lease;
    private readonly ILogger _logger;
    private readonly Action<string>? _onLost;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewals;
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(10);
    private int _released;

    public LeaseKeeper(ITrainingLease lease, LeaseTicket ticket, ILogger logger, Action<string>? onLost = null)
    {
        _lease = lease;
        Ticket = ticket;
        _logger = logger;
        _onLost = onLost;
        _renewals = lease.IsShared ? Task.Run(RenewAsync) : Task.CompletedTask;
    }

    public LeaseTicket Ticket { get; }

    public bool Lost { get; private set; }

    private async Task RenewAsync()
    {
        var interval = _lease.Duration / 3;
        var failing = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _stop.Token).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(interval);
                if (!await _lease.RenewAsync(Ticket, timeout.Token).ConfigureAwait(false))
                {
                    Lost = true;
                    _logger.LogError("Lost the training lease of job {Job}: another replica took it after it lapsed", Ticket.JobId);
                    _onLost?.Invoke($"Lost the training lease ({_lease.Location}) at {DateTimeOffset.UtcNow:u}: it lapsed (renewals failed or came too late) and another replica took it, so another run may be training at the same time. This run goes on; LATEST ends at the newer of the two models.");
                    return;
                }

                if (failing)
                {
                    _logger.LogInformation("Training lease of job {Job} renewed again", Ticket.JobId);
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // An outage: keep trying until the lease lapses; log once, not at every attempt.
                if (!failing)
                {
                    _logger.LogWarning("Could not renew the training lease of job {Job}: {Error}", Ticket.JobId, Why(ex, interval));
                    failing = true;
                }
            }
        }
    }

    /// <summary>Stops renewing and gives the lease up (best effort: otherwise it lapses at its expiry).</summary>
    public async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewals.ConfigureAwait(false);
        _stop.Dispose();
        if (Lost)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(ReleaseTimeout);
            await _lease.ReleaseAsync(Ticket, timeout.Token).ConfigureAwait(false);
            _logger.LogInformation("Training lease released by job {Job}", Ticket.JobId);
        }
        catch (Exception ex)
        {
            _logger.LogWarning("Could not release the training lease of job {Job} (it lapses at {Expiry:u}): {Error}", Ticket.JobId, Ticket.ExpiresAt, Why(ex, ReleaseTimeout));
        }
    }

    // A store that accepts the connection and never answers ends in our own timeout, whose message ("A task was
    // canceled.") said neither what nor where.
    private string Why(Exception ex, TimeSpan timeout) =>
        ex is OperationCanceledException ? $"{_lease.Location} gave no answer within {timeout.TotalSeconds:0.#} s" : ex.Message;
}
