using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// POST /train during a shutdown (SIGTERM) was answered 202 with a job the worker cancelled at once and the restarted
/// service no longer knew: the client never heard that nothing was trained.
/// </summary>
[Collection(TrainedModelCollection.Name)]
public sealed class TrainingShutdownTests(TrainedModelFixture model)
{
    [Fact]
    public async Task Post_train_whose_lease_was_taken_while_the_shutdown_began_is_a_503_naming_the_job()
    {
        var lease = new StoppingLease(stopWhileTaking: true);
        using var factory = Create(lease);
        var client = factory.CreateClient();

        using var response = await client.PostAsync("/train", null);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, body);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Matches("The service is shutting down: training job [0-9a-f]{32} stops with it, before it finishes", body);
        Assert.Equal(1, lease.Attempts);
    }

    [Fact]
    public async Task A_run_the_shutdown_stops_ends_killed_on_the_mlflow_server_before_the_host_gives_up_waiting()
    {
        // Stopped by the shutdown, the run was tracked with the full 60 s budget, its status last: behind a server slow to
        // take metrics, the host stopped waiting after its 30 s and the run stayed RUNNING on the server.
        await using var mlflow = await NetworkSecurity.Tracking.Tests.MlflowStubServer.StartAsync();
        mlflow.Hold = async (request, aborted) =>
        {
            if (request.Path.EndsWith("log-batch", StringComparison.Ordinal) || request.Method == "PUT")
            {
                await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        };
        var reading = new WaitingDataSource();
        var factory = model.CreateFactory(new Dictionary<string, string?> { ["MLFLOW_TRACKING_URI"] = mlflow.Url }).WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<NetworkSecurity.Pipeline.DataSources.IDataSource>(reading))));
        try
        {
            using var response = await factory.CreateClient().PostAsync("/train", null);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await reading.Started.Task.WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await factory.DisposeAsync(); // the host's stop, with its 30 s for the services
        }

        var update = Assert.Single(mlflow.Requests, r => r.Path.EndsWith("runs/update", StringComparison.Ordinal));
        Assert.Equal("KILLED", update.Json["status"]!.GetValue<string>());
    }

    /// <summary>A data source that is reading until the service stops.</summary>
    private sealed class WaitingDataSource : NetworkSecurity.Pipeline.DataSources.IDataSource
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Description => "a source that waits";

        public async Task<NetworkSecurity.Pipeline.DataSources.RawTable> ReadAsync(CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("not reached");
        }
    }

    // On a real Kestrel, as in production: its stop lets the request in flight finish before the host disposes the
    // services. The in-memory server does not wait, and the stop the lease begins disposed the coordinator under the
    // request now and then (a 500: "Cannot access a disposed object", SemaphoreSlim, seen once in 25 runs under load).
    private WebApplicationFactory<Program> Create(StoppingLease lease)
    {
        var factory = model.CreateFactory(new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" }).WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<ITrainingLease>(sp =>
            {
                lease.Lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
                return lease;
            }))));
        factory.UseKestrel();
        factory.StartServer();
        return factory;
    }

    /// <summary>This process's own lease, which can begin the shutdown while it is being taken (as a SIGTERM during the settle delay does).</summary>
    private sealed class StoppingLease(bool stopWhileTaking) : ITrainingLease
    {
        private readonly LocalTrainingLease _inner = new("replica-t", TimeProvider.System);
        private int _attempts;

        public IHostApplicationLifetime? Lifetime { get; set; }

        public int Attempts => Volatile.Read(ref _attempts);

        public string Description => _inner.Description;

        public bool IsShared => false;

        public TimeSpan Duration => _inner.Duration;

        public Task<LeaseAttempt> TryAcquireAsync(string jobId, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            if (stopWhileTaking)
            {
                Lifetime!.StopApplication();
            }

            return _inner.TryAcquireAsync(jobId, cancellationToken);
        }

        public Task<bool> RenewAsync(LeaseTicket ticket, CancellationToken cancellationToken) => _inner.RenewAsync(ticket, cancellationToken);

        public Task ReleaseAsync(LeaseTicket ticket, CancellationToken cancellationToken) => _inner.ReleaseAsync(ticket, cancellationToken);
    }
}
