using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Pipeline.Tests;

using static NetworkSecurity.Api.Tests.HttpTestHelpers;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// After a burst of large uploads nothing allocates, so nothing collected, and the heap they grew stayed committed: 20
/// uploads of 110,550 rows left the service at 348 MB RSS instead of 123 MB a minute later. Once no large body has been
/// held for <see cref="UploadSlots.TrimDelay"/>, one collection gives it back.
/// </summary>
[Collection(TrainedModelCollection.Name)]
public sealed class UploadHeapTrimTests(TrainedModelFixture model)
{
    [Fact]
    public async Task The_heap_is_given_back_once_after_each_burst_of_large_uploads_ends()
    {
        using var factory = model.CreateFactory();
        factory.UseLoopbackKestrel();
        factory.StartServer();
        var client = factory.CreateClient();
        using var direct = new HttpClient { BaseAddress = client.BaseAddress };
        var uploads = factory.Services.GetRequiredService<UploadSlots>();
        var lines = File.ReadAllLines(TestPaths.DataFile).Where(l => l.Length > 0).ToArray();
        var csv = Encoding.UTF8.GetBytes(lines[0] + "\n" + string.Join('\n', Enumerable.Repeat(lines.Skip(1), 2).SelectMany(l => l)) + "\n");
        Assert.True(UploadSlots.IsLarge(csv.Length));

        // A small upload holds nothing counted, and starts no collection of its own.
        using (var small = await client.PostAsync("/predict", Raw(string.Join('\n', lines.Take(50)) + "\n", "text/csv")))
        {
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        }

        Assert.Equal(0, uploads.HeapTrims);
        for (var burst = 1; burst <= 2; burst++)
        {
            // The three bodies are all held before any is scored: sent at once, one could be answered (and its bytes let
            // go) before another had arrived, and a gap of more than TrimDelay between them on a loaded machine made two
            // bursts of one (two collections).
            // (A client of its own: the factory's follows redirects, so reads a request's whole body before sending it.)
            var send = new TaskCompletionSource();
            var answers = Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                using var answer = await direct.PostAsync("/predict", new HeldBackContent(csv, "text/csv", send.Task));
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.Contains("phishing", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }));
            await WaitForAsync(() => uploads.HeldBytes == 3L * csv.Length || answers.IsCompleted, $"the three uploads of burst {burst} held");
            if (answers.IsCompleted)
            {
                await answers; // an upload answered before its body was sent: its failure says why
            }

            Assert.Equal(3L * csv.Length, uploads.HeldBytes);
            send.SetResult();
            await answers;

            await WaitForAsync(() => uploads.HeapTrims >= burst, $"the heap given back after burst {burst}");
            Assert.Equal(burst, uploads.HeapTrims); // once per burst, not once per upload
            Assert.Equal(0, uploads.HeldBytes);
        }
    }
}
