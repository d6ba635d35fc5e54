using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Storage;
using NetworkSecurity.Storage.Replication;
using NetworkSecurity.Storage.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>A trainer's lease renewals and release against a store that accepts connections and never answers.</summary>
public sealed class LeaseKeeperTests
{
    [Fact]
    public async Task Renewals_and_the_release_that_get_no_answer_are_logged_naming_the_lease_object()
    {
        // Logged before as "Could not renew the training lease of job …: A task was canceled.": not what, not where.
        using var silent = new TcpListener(IPAddress.Loopback, TestPorts.ForServer());
        silent.Start(); // the kernel completes the connections; nothing ever answers
        var options = new S3Options
        {
            Bucket = "models",
            Prefix = "ns/",
            ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}",
            ForcePathStyle = true,
            DisableChunkedEncoding = true,
            AccessKey = "S3RVER",
            SecretKey = "S3RVER",
        };
        var settings = new S3LeaseSettings { Duration = TimeSpan.FromSeconds(3), SettleDelay = TimeSpan.FromMilliseconds(100), Mode = S3LeaseMode.Settle };
        using var lease = new S3TrainingLease(options, settings, "replica-k", NullLogger.Instance);
        var logger = new LinesLogger();
        var keeper = new LeaseKeeper(lease, new LeaseTicket("replica-k", "job-1", "token-1"), logger);

        string? renewal;
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while ((renewal = logger.Lines.FirstOrDefault(line => line.StartsWith("Could not renew", StringComparison.Ordinal))) is null)
            {
                await Task.Delay(100, wait.Token); // renewed every second, each attempt given a second
            }
        }

        Assert.Equal("Could not renew the training lease of job job-1: s3://models/ns/leases/training.json gave no answer within 1 s", renewal);

        await keeper.ReleaseAsync();
        Assert.Contains(logger.Lines, line => line.StartsWith("Could not release the training lease of job job-1", StringComparison.Ordinal)
            && line.EndsWith(": s3://models/ns/leases/training.json gave no answer within 10 s", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Lines, line => line.Contains("canceled", StringComparison.OrdinalIgnoreCase));
    }
}
