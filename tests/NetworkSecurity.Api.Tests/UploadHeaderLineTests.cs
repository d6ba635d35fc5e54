using System.Net;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>An upload whose header comes after blank lines: its problems name the header's line, not line 1.</summary>
[Collection(TrainedModelCollection.Name)]
public sealed class UploadHeaderLineTests(TrainedModelFixture model) : IDisposable
{
    private readonly ApiFactory _factory = model.CreateFactory();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_header_problem_after_blank_lines_names_the_headers_line_in_the_problem_details()
    {
        var header = File.ReadLines(TestPaths.DataFile).First().Replace("URL_Length", "URL_Lenght", StringComparison.Ordinal);
        var row = File.ReadLines(TestPaths.DataFile).Skip(1).First();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = new StringContent($"\n\n\n{header}\n{row}\n", Encoding.UTF8, "text/csv") };
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await _factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = problem.RootElement.GetProperty("errors")[0];
        Assert.Equal("line 4", error.GetProperty("location").GetString());
        Assert.Contains("missing column(s): URL_Length", error.GetProperty("message").GetString());
    }
}
