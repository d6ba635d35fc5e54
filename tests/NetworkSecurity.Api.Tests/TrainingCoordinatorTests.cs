using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Tests;

/// <summary>How a request to train meets a lease store that fails: once (tried again) or every time (a clear error).</summary>
public sealed class TrainingCoordinatorTests
{
    [Fact]
    public async Task A_lease_store_error_that_passes_is_tried_once_more_and_the_job_starts()
    {
        var lease = new FailingLease(failures: 1);
        using var coordinator = Coordinator(lease);

        var request = await coordinator.RequestAsync("test", CancellationToken.None);

        Assert.NotNull(request.Job);
        Assert.True(request.Created);
        Assert.Null(request.Error);
        Assert.Equal(2, lease.Attempts);
        await request.Job.Lease!.ReleaseAsync(); // no renewal loop left running after the test
    }

    [Fact]
    public async Task A_lease_store_that_keeps_failing_gives_an_error_naming_the_cause_and_no_job()
    {
        var lease = new FailingLease(failures: int.MaxValue);
        using var coordinator = Coordinator(lease);

        var request = await coordinator.RequestAsync("test", CancellationToken.None);

        Assert.Null(request.Job);
        Assert.Null(request.HeldBy);
        Assert.Equal("The training lease could not be taken: store down (attempt 3)", request.Error);
        Assert.Equal(3, lease.Attempts); // a passing error is tried again twice, after random pauses
    }

    [Fact]
    public async Task A_lease_store_that_cannot_be_reached_is_not_tried_again_and_the_error_says_so()
    {
        var lease = new FailingLease(failures: int.MaxValue, unreachable: true);
        using var coordinator = Coordinator(lease);

        var request = await coordinator.RequestAsync("test", CancellationToken.None);

        Assert.Null(request.Job);
        Assert.Equal("The training lease could not be taken: store unreachable (attempt 1)", request.Error);
        Assert.Equal(1, lease.Attempts); // the store's client already retried the connection
    }

    private static TrainingCoordinator Coordinator(ITrainingLease lease) => new(
        new TrainingJobQueue(), lease, Options.Create(new ReplicationOptions { ReplicaId = "replica-t" }),
        TimeProvider.System, NullLogger<TrainingCoordinator>.Instance);

    /// <summary>
    /// A real in-process lease behind a store that throws for its first <paramref name="failures"/> calls: the coordinator's
    /// retry rules need failures on cue, which a real store gives only by chance. The S3 lease's own errors are tested
    /// against s3rver (and a refused port) in Storage.Tests, and a store going away under running replicas in ReplicaTests.
    /// </summary>
    private sealed class FailingLease(int failures, bool unreachable = false) : ITrainingLease
    {
        private readonly LocalTrainingLease _inner = new("replica-t", TimeProvider.System);

        public int Attempts { get; private set; }

        public string Description => "failing test store";

        public bool IsShared => true;

        public TimeSpan Duration => _inner.Duration;

        public Task<LeaseAttempt> TryAcquireAsync(string jobId, CancellationToken cancellationToken)
        {
            Attempts++;
            if (Attempts > failures)
            {
                return _inner.TryAcquireAsync(jobId, cancellationToken);
            }

            throw unreachable
                ? new LeaseStoreUnreachableException($"store unreachable (attempt {Attempts})", new HttpRequestException("Connection refused"))
                : new IOException($"store down (attempt {Attempts})");
        }

        public Task<bool> RenewAsync(LeaseTicket ticket, CancellationToken cancellationToken) => _inner.RenewAsync(ticket, cancellationToken);

        public Task ReleaseAsync(LeaseTicket ticket, CancellationToken cancellationToken) => _inner.ReleaseAsync(ticket, cancellationToken);
    }
}
