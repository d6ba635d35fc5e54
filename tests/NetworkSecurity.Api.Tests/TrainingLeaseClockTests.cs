using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Tests;

/// <summary>A 409's Retry-After counts down to the lease's expiry on the clock the expiry was written on: the store's.</summary>
[Collection(TrainedModelCollection.Name)]
public sealed class TrainingLeaseClockTests(TrainedModelFixture model)
{
    [Theory]
    [InlineData(2 * 3600)] // the store's clock two hours ahead of this replica's: Retry-After was 3600 (the cap)
    [InlineData(-2 * 3600)] // two hours behind: Retry-After was 1, for a lease held 20 s more
    public async Task Retry_after_of_a_409_is_the_leases_remaining_time_on_the_stores_clock_whatever_this_replicas_clock_says(int storeAheadSeconds)
    {
        var lease = new SkewedHeldLease(TimeSpan.FromSeconds(storeAheadSeconds), TimeSpan.FromSeconds(20));
        using var factory = model.CreateFactory().WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<ITrainingLease>(lease))));

        using var refused = await factory.CreateClient().PostAsync("/train", null);

        var body = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == HttpStatusCode.Conflict, body);
        var seconds = refused.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.True(seconds is >= 15 and <= 20, $"Retry-After {seconds} s for a lease that lapses in 20 s on the store's clock");
        Assert.Equal("replica-b", JsonDocument.Parse(body).RootElement.GetProperty("holder").GetString());
    }

    [Fact]
    public async Task The_members_naming_the_lease_holder_of_a_409_are_in_the_openapi_document()
    {
        // holder, job_id and expires_at came with every 409, and the document gave the plain ProblemDetails schema.
        var lease = new SkewedHeldLease(TimeSpan.Zero, TimeSpan.FromSeconds(20));
        using var factory = model.CreateFactory().WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<ITrainingLease>(lease))));
        var client = factory.CreateClient();

        using var refused = await client.PostAsync("/train", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        using var answer = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        var schema = document.RootElement.GetProperty("paths").GetProperty("/train").GetProperty("post").GetProperty("responses").GetProperty("409")
            .GetProperty("content").GetProperty("application/problem+json").GetProperty("schema");
        var declared = new Dictionary<string, JsonElement>();
        void Collect(JsonElement part)
        {
            if (part.TryGetProperty("$ref", out var reference))
            {
                Collect(schemas.GetProperty(reference.GetString()!.Split('/')[^1]));
            }

            foreach (var property in part.TryGetProperty("properties", out var properties) ? properties.EnumerateObject() : default)
            {
                declared[property.Name] = property.Value;
            }

            foreach (var inner in part.TryGetProperty("allOf", out var all) ? all.EnumerateArray() : default)
            {
                Collect(inner);
            }
        }

        Collect(schema);
        foreach (var member in new[] { "holder", "job_id", "expires_at" })
        {
            Assert.Equal(JsonValueKind.String, answer.RootElement.GetProperty(member).ValueKind);
            Assert.True(declared.TryGetValue(member, out var property), $"'{member}' of a 409 is not in its schema: {schema}");
            Assert.Equal("string", property.GetProperty("type").GetString());
        }

        Assert.Equal("date-time", declared["expires_at"].GetProperty("format").GetString());
        Assert.True(DateTimeOffset.TryParse(answer.RootElement.GetProperty("expires_at").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
    }

    /// <summary>Another replica holds the lease for <c>remaining</c> more, as a store whose clock is off from ours by <c>skew</c> writes it.</summary>
    private sealed class SkewedHeldLease(TimeSpan skew, TimeSpan remaining) : ITrainingLease
    {
        public string Description => "test lease on a store with a skewed clock";

        public bool IsShared => true;

        public TimeSpan Duration => TimeSpan.FromSeconds(30);

        public DateTimeOffset UtcNow => DateTimeOffset.UtcNow + skew;

        public Task<LeaseAttempt> TryAcquireAsync(string jobId, CancellationToken cancellationToken) =>
            Task.FromResult(LeaseAttempt.Lost(new LeaseHolder("replica-b", "job-b", UtcNow + remaining)));

        public Task<bool> RenewAsync(LeaseTicket ticket, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task ReleaseAsync(LeaseTicket ticket, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
