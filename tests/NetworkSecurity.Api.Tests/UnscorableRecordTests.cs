using System.Globalization;
using System.Net;
using System.Text;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// A logistic regression trained on float features in the usual range, asked about a record of 1.7e308 and -1.7e308:
/// its probability is NaN. POST /predict/json answered 500 (the JSON writer refuses NaN), and the CSV answers and the
/// offline predict gave the record the verdict phishing with probability NaN.
/// </summary>
public sealed class UnscorableRecordTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    public async Task InitializeAsync()
    {
        _dir.File("schema.yaml", TwoFloatSchema.Yaml);
        var rows = Enumerable.Range(0, 400).Select(i =>
        {
            var a = ((i % 20) - 9.5) / 10;
            var b = (((i * 7) % 13) - 6.0) / 10;
            return string.Create(CultureInfo.InvariantCulture, $"{a},{b},{(a + b + ((i % 3) - 1) / 10.0 > 0 ? 1 : 0)}");
        });
        var options = PipelineFactory.Options(_dir, _dir.File("data.csv", "a,b,y\n" + string.Join('\n', rows) + "\n"));
        options.SchemaPath = Path.Combine(_dir.Path, "schema.yaml");
        var trainer = new Pipeline.Training.GridSearchTrainer(TestPaths.GridFile, 3, "roc_auc", 1, "logistic_regression");
        var result = await PipelineFactory.Create(options, trainer).RunAsync(null, CancellationToken.None);
        _ = result.PromotedVersion ?? throw new InvalidOperationException("The float-schema model was not promoted.");
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private ApiFactory CreateFactory() => new(Path.Combine(_dir.Path, "final_model"), Path.Combine(_dir.Path, "Artifacts"), new Dictionary<string, string?>
    {
        ["Pipeline:SchemaPath"] = Path.Combine(_dir.Path, "schema.yaml"),
    });

    [Theory]
    [InlineData("")]
    [InlineData("?explain=all")]
    public async Task A_json_record_the_model_cannot_score_is_a_400_naming_the_record(string query)
    {
        using var factory = CreateFactory();
        using var content = new StringContent("""{"records":[{"a":1,"b":2},{"a":1.7e308,"b":-1.7e308}]}""", Encoding.UTF8, "application/json");
        using var response = await factory.CreateClient().PostAsync("/predict/json" + query, content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"location\":\"record 2\"", body, StringComparison.Ordinal);
        Assert.Contains("a phishing probability that is not a number between 0 and 1 (NaN)", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_json_number_beyond_double_is_named_as_written_and_float_allows_finite_numbers()
    {
        // 1e400 read "Infinity is not an allowed value (allowed: any number)": not what was sent, and a rule it meets.
        using var factory = CreateFactory();
        using var content = new StringContent("""{"records":[{"a":1e400,"b":1},{"a":1,"b":"Infinity"},{"a":-1E999,"b":2}]}""", Encoding.UTF8, "application/json");
        using var response = await factory.CreateClient().PostAsync("/predict/json", content);
        var errors = (await HttpTestHelpers.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateArray()
            .Select(e => $"{e.GetProperty("location").GetString()} {e.GetProperty("field").GetString()}: {e.GetProperty("message").GetString()}").ToArray();
        Assert.Equal(
        [
            "record 1 a: 1e400 is not an allowed value (allowed: any finite number).",
            "record 2 b: Infinity is not an allowed value (allowed: any finite number).",
            "record 3 a: -1E999 is not an allowed value (allowed: any finite number).",
        ], errors);
    }

    [Fact]
    public async Task A_json_record_whose_values_are_refused_is_not_also_said_to_miss_them()
    {
        // Both values refused: the record was also told "2 of 2 features are missing; at most 1 may be", for values it sent.
        using var factory = CreateFactory();
        using var content = new StringContent("""{"records":[{"a":"x","b":true},{"a":null,"b":null}]}""", Encoding.UTF8, "application/json");
        using var response = await factory.CreateClient().PostAsync("/predict/json", content);
        var errors = (await HttpTestHelpers.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateArray()
            .Select(e => $"{e.GetProperty("location").GetString()}: {e.GetProperty("message").GetString()}").ToArray();
        Assert.Equal(
        [
            "record 1: \"x\" is not a number.",
            "record 1: true is not an allowed value (send a number or null).",
            "record 2: 2 of 2 features are missing; at most 1 may be (too little to impute from).",
        ], errors);
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("application/json")]
    [InlineData("text/html")]
    public async Task A_csv_record_the_model_cannot_score_is_a_400_naming_its_line(string accept)
    {
        using var factory = CreateFactory();
        using var form = new MultipartFormDataContent();
        // Its line is 5, after two blank lines: the record's line, not its place among the records.
        form.Add(new StringContent("a,b\n1,2\n\n\n1.7e308,-1.7e308\n3,4\n"), "file", "q.csv");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = form };
        request.Headers.Accept.ParseAdd(accept);
        using var response = await factory.CreateClient().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
        Assert.Contains("line 5", body, StringComparison.Ordinal);
        Assert.Contains("not a number between 0 and 1 (NaN)", body, StringComparison.Ordinal);
        Assert.DoesNotContain(">phishing<", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Offline_predict_refuses_such_a_record_and_writes_no_output()
    {
        var input = _dir.File("q.csv", "a,b\n1,2\n1.7e308,-1.7e308\n");
        var output = Path.Combine(_dir.Path, "out.csv");
        var (code, stdout, stderr) = ProgramProcess.Run(_dir, new() { ["Logging__Directory"] = "none" },
            "predict", "--input", input, "--output", output, "--schema", Path.Combine(_dir.Path, "schema.yaml"), "--final-model", Path.Combine(_dir.Path, "final_model"));

        Assert.True(code == Cli.CommandLine.Failed, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("line 3: model ", stderr, StringComparison.Ordinal);
        Assert.Contains("not a number between 0 and 1 (NaN)", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }
}
