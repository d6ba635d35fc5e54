using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Api.Endpoints;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// A model trained on a schema of its own (two features, one with no allowed list, 0/1 labels, the label column first)
/// and served with it: the service must follow the schema, not the bundled 30 features.
/// </summary>
public sealed class OtherSchemaModelFixture : IAsyncLifetime
{
    public const string Schema = """
        version: 1
        features:
          - name: grade
            type: int
            allowed: [0, 1, 2, 3, 4, 5]
            aliases: [level]
          - name: hops
            type: int
        target:
          name: is_phish
          type: int
          aliases: [phish]
          classes:
            - value: 0
              name: legitimate
            - value: 1
              name: phishing
        """;

    private readonly TempDirectory _dir = new();

    public string SchemaPath => Path.Combine(_dir.Path, "schema.yaml");

    public string FinalModelDirectory => Path.Combine(_dir.Path, "final_model");

    public async Task InitializeAsync()
    {
        _dir.File("schema.yaml", Schema);
        // High grades are mostly phishing, every tenth row the other way: a signal the quality gate accepts.
        var rows = Enumerable.Range(0, 600).Select(i =>
        {
            var grade = i % 6;
            var phishing = (grade >= 3) != (i % 10 == 0);
            return string.Create(CultureInfo.InvariantCulture, $"{(phishing ? 1 : 0)},{grade},{(i * 7 % 5) * 100}");
        });
        var data = _dir.File("data.csv", "phish,level,hops\n" + string.Join('\n', rows) + "\n");
        var options = PipelineFactory.Options(_dir, data);
        options.SchemaPath = SchemaPath;
        var result = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        _ = result.PromotedVersion ?? throw new InvalidOperationException("The other-schema model was not promoted.");
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    public ApiFactory CreateFactory() => new(FinalModelDirectory, Path.Combine(_dir.Path, "Artifacts"), new Dictionary<string, string?>
    {
        ["Pipeline:SchemaPath"] = SchemaPath,
    });
}

public sealed class OtherSchemaTests(OtherSchemaModelFixture model) : IClassFixture<OtherSchemaModelFixture>
{
    [Fact]
    public async Task Swagger_document_is_served_and_its_example_record_names_the_schemas_features()
    {
        // A feature without an allowed list made the example record throw: GET /swagger/v1/swagger.json answered 500.
        using var factory = model.CreateFactory();
        using var response = await factory.CreateClient().GetAsync("/swagger/v1/swagger.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        var example = doc.RootElement.GetProperty("paths").GetProperty("/predict/json").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("example");
        var record = example.GetProperty("records")[0];
        Assert.Equal(["grade", "hops"], record.EnumerateObject().Select(p => p.Name).ToArray());

        // The example is one the service accepts.
        using var predict = await factory.CreateClient().PostAsync("/predict/json", new StringContent(example.GetRawText(), Encoding.UTF8, "application/json"));
        Assert.True(predict.StatusCode == HttpStatusCode.OK, await predict.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Home_page_describes_the_schemas_upload_and_its_explain_button_asks_for_what_the_model_can_give()
    {
        // The page said "the 30 feature columns", "a Result column", and its button asked for explain=3 of two features: a 400.
        using var factory = model.CreateFactory();
        var client = factory.CreateClient();
        var html = await client.GetStringAsync("/");
        Assert.Contains("A CSV with the 2 feature columns (any order; a is_phish column is ignored).", html);
        Assert.DoesNotContain("30 feature", html);
        var action = System.Text.RegularExpressions.Regex.Match(html, "formaction=\"(?<url>[^\"]+)\"").Groups["url"].Value;
        Assert.Equal("/predict?explain=2", action);

        using var form = new MultipartFormDataContent { { new StringContent("level,hops\n4,100\n1,0\n", Encoding.UTF8, "text/csv"), "file", "sites.csv" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, action) { Content = form };
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await client.SendAsync(request);
        var page = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, page);
        Assert.Contains("grade = 4", page); // the why column
    }

    [Fact]
    public async Task Json_refusals_name_the_schemas_features_and_allowed_values_not_the_bundled_ones()
    {
        // They said "not one of the 30 features … (data_schema/schema.yaml)" and "send -1, 0, 1 or null" whatever the schema.
        using var factory = model.CreateFactory();
        const string body = """{"records":[{"level":true,"hops":"x","Result":1},{"grade":1,"hops":[1]}]}""";
        using var response = await factory.CreateClient().PostAsync("/predict/json", new StringContent(body, Encoding.UTF8, "application/json"));
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var messages = problem.RootElement.GetProperty("errors").EnumerateArray()
            .ToDictionary(e => (e.GetProperty("location").GetString(), e.GetProperty("field").GetString()), e => e.GetProperty("message").GetString());
        Assert.Equal("true is not an allowed value (send 0, 1, 2, 3, 4, 5 or null).", messages[("record 1", "grade")]);
        Assert.Equal("\"x\" is not a number.", messages[("record 1", "hops")]);
        Assert.Equal("unknown field: not one of the 2 features or their aliases (grade, hops).", messages[("record 1", "Result")]);
        Assert.Equal("an array is not an allowed value (send a whole number or null).", messages[("record 2", "hops")]);
    }

    [Fact]
    public async Task Swagger_describes_the_schemas_features_not_the_bundled_30()
    {
        using var factory = model.CreateFactory();
        using var doc = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));
        var paths = doc.RootElement.GetProperty("paths");
        var json = paths.GetProperty("/predict/json").GetProperty("post").GetProperty("description").GetString()!;
        var csv = paths.GetProperty("/predict").GetProperty("post").GetProperty("description").GetString()!;
        var api = doc.RootElement.GetProperty("info").GetProperty("description").GetString()!;
        Assert.StartsWith("Send {\"records\": [{\"grade\": 0, \"hops\": 0}]}: each record maps all 2 feature names (or their aliases) to their allowed values", json);
        Assert.Contains("?explain=N (1-2)", json);
        Assert.Contains("?explain=N (1-2)", csv);
        Assert.StartsWith("Detects phishing websites from 2 ", api);
        Assert.DoesNotContain("having_IP_Address", doc.RootElement.GetRawText());
    }

    [Fact]
    public async Task Served_with_another_schema_the_model_is_refused_and_predict_says_why()
    {
        // /predict answered "The service has no trained model" beside a model it had refused for its schema.
        using var artifacts = new TempDirectory();
        using var factory = new ApiFactory(model.FinalModelDirectory, artifacts.Path); // the bundled schema
        using var response = await factory.CreateClient().PostAsync("/predict/json", new StringContent("""{"records":[{"grade":1,"hops":0}]}""", Encoding.UTF8, "application/json"));
        var detail = (await HttpTestHelpers.ProblemAsync(response, HttpStatusCode.ServiceUnavailable)).GetProperty("detail").GetString();
        Assert.Contains("could not be served", detail);
        Assert.Contains("was trained on another feature schema", detail);
    }

    [Fact]
    public async Task A_feature_of_type_int_without_an_allowed_list_refuses_fractions_and_infinity()
    {
        // 2.5 and "Infinity" were scored for a feature the schema declares int.
        using var factory = model.CreateFactory();
        const string body = """{"records":[{"grade":1,"hops":2.5},{"grade":1,"hops":"Infinity"},{"grade":1,"hops":"300"}]}""";
        using var response = await factory.CreateClient().PostAsync("/predict/json", new StringContent(body, Encoding.UTF8, "application/json"));
        var errors = (await HttpTestHelpers.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateArray()
            .Select(e => $"{e.GetProperty("location").GetString()} {e.GetProperty("field").GetString()}: {e.GetProperty("message").GetString()}").ToArray();
        Assert.Equal(["record 1 hops: 2.5 is not an allowed value (allowed: any whole number).", "record 2 hops: Infinity is not an allowed value (allowed: any whole number)."], errors);
    }
}

public sealed class NonAsciiHeaderTests
{
    [Fact]
    public async Task A_feature_name_or_model_folder_outside_ascii_is_percent_encoded_in_headers_not_a_500()
    {
        // Kestrel throws on a header value with a non-ASCII character: a feature named 'sprünge' empty in every record
        // made X-Empty-Features a 500 on /predict and /predict/json, and a model folder under 'modèles' made
        // X-Model-Origin a 500 on every GET /model.
        using var dir = new TempDirectory();
        var schema = dir.File("schema.yaml", OtherSchemaModelFixture.Schema.Replace("name: hops", "name: sprünge", StringComparison.Ordinal));
        var rows = Enumerable.Range(0, 600).Select(i => string.Create(CultureInfo.InvariantCulture, $"{((i % 6 >= 3) != (i % 10 == 0) ? 1 : 0)},{i % 6},{(i * 7 % 5) * 100}"));
        var options = PipelineFactory.Options(dir, dir.File("data.csv", "phish,level,sprünge\n" + string.Join('\n', rows) + "\n"));
        options.SchemaPath = schema;
        options.FinalModelDirectory = Path.Combine(dir.Path, "modèles");
        Assert.NotNull((await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None)).PromotedVersion);
        using var factory = new ApiFactory(options.FinalModelDirectory, options.ArtifactsRoot, new Dictionary<string, string?> { ["Pipeline:SchemaPath"] = schema });
        factory.UseLoopbackKestrel(); // the in-memory test server takes any header value
        factory.StartServer();
        var client = factory.CreateClient();

        using var csv = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = HttpTestHelpers.Raw("level,sprünge\n4,\n1,\n", "text/csv") };
        csv.Headers.Accept.ParseAdd("application/json");
        using var scored = await client.SendAsync(csv);
        var body = await scored.Content.ReadAsStringAsync();
        Assert.True(scored.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("spr%C3%BCnge", scored.Headers.GetValues(PredictionApi.EmptyFeaturesHeader).Single());
        using (var answer = JsonDocument.Parse(body))
        {
            Assert.Equal("sprünge", answer.RootElement.GetProperty("empty_features")[0].GetString()); // the body keeps the name
        }

        using var json = await client.PostAsync("/predict/json", HttpTestHelpers.Raw("""{"records":[{"grade":4,"sprünge":null},{"grade":1,"sprünge":null}]}""", "application/json"));
        Assert.True(json.StatusCode == HttpStatusCode.OK, await json.Content.ReadAsStringAsync());
        Assert.Equal("spr%C3%BCnge", json.Headers.GetValues(PredictionApi.EmptyFeaturesHeader).Single());

        using var card = await client.GetAsync("/model");
        Assert.True(card.StatusCode == HttpStatusCode.OK, await card.Content.ReadAsStringAsync());
        Assert.Contains("mod%C3%A8les", card.Headers.GetValues(ModelApi.ModelOriginHeader).Single());
    }

    [Theory]
    [InlineData("plain text, 20261207_120000", "plain text, 20261207_120000")]
    [InlineData("Länge, 50%", "L%C3%A4nge, 50%25")]
    [InlineData("tab\there 😀", "tab%09here %F0%9F%98%80")]
    public void Header_text_keeps_printable_ascii_and_percent_encodes_the_rest_as_utf8(string text, string expected) =>
        Assert.Equal(expected, NetworkSecurity.Api.Hosting.HeaderText.Encode(text));
}

public sealed class OtherSchemaHelpTests
{
    [Fact]
    public void Command_help_does_not_promise_the_bundled_30_features_to_a_schema_given_with_schema()
    {
        // The help said "30 URL, domain and page features", "the 30 feature columns" and "or all 30" whatever --schema named.
        var root = NetworkSecurity.Api.Cli.CommandLine.Build();
        var predict = root.Subcommands.Single(c => c.Name == "predict");
        var texts = new[] { root.Description!, predict.Options.Single(o => o.Name == "--input").Description!, predict.Options.Single(o => o.Name == "--explain").Description! };
        Assert.All(texts, text => Assert.DoesNotMatch(@"\b30 (URL|feature)|the 30\b|all 30\b", text));
        Assert.Contains("or those of --schema", texts[0]);
        Assert.Contains("the schema's feature columns", texts[1]);
    }
}

public sealed class WideSchemaCommandTests
{
    [Fact]
    public void Commands_train_and_score_a_schema_wider_than_the_services_upload_limit()
    {
        // Api:MaxColumns (512) bounds the service's CSV uploads, yet train and predict with a 600-feature schema stopped at
        // once, "Api:MaxColumns (512) is below the 600 features of the schema", though they read files within their own
        // limit (10,000 columns) and serve nothing.
        using var dir = new TempDirectory();
        const int features = 600;
        var schema = new StringBuilder("version: 1\nfeatures:\n");
        for (var f = 0; f < features; f++)
        {
            schema.Append(CultureInfo.InvariantCulture, $"  - name: v{f}\n    allowed: [-1, 0, 1]\n");
        }

        schema.Append("target:\n  name: Result\n  classes:\n    - value: -1\n      name: phishing\n    - value: 1\n      name: legitimate\n");
        var schemaPath = dir.File("wide.yaml", schema.ToString());
        var csv = new StringBuilder(string.Join(',', Enumerable.Range(0, features).Select(f => $"v{f}")) + ",Result\n");
        for (var r = 0; r < 200; r++)
        {
            // v0 decides the label: a model the quality gate promotes.
            var label = r % 2 == 0 ? -1 : 1;
            csv.AppendJoin(',', Enumerable.Range(0, features).Select(f => f == 0 ? label : ((r * 7) + (f * 3)) % 3 - 1)).Append(',').Append(label).Append('\n');
        }

        var data = dir.File("wide.csv", csv.ToString());
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "train", "--data", data, "--schema", schemaPath, "--mode", "gbdt", "--Pipeline:OverfittingThreshold=1");
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("Promoted model", stdout);

        var output = Path.Combine(dir.Path, "verdicts.csv");
        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "predict", "--schema", schemaPath, "--input", data, "--output", output);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var lines = File.ReadAllLines(output);
        Assert.Equal(201, lines.Length);
        Assert.EndsWith(",Result,predicted_column,phishing_probability,verdict", lines[0]);
    }
}

public sealed class OneFeatureSchemaTests
{
    [Fact]
    public void A_model_of_one_feature_scores_a_file_of_that_one_column()
    {
        // Trained from "x,label", then predict refused the file of its records: "expected comma- or tab-separated columns".
        using var dir = new TempDirectory();
        var schema = dir.File("one.yaml", "version: 1\nfeatures:\n  - name: x\n    type: float\ntarget:\n  name: label\n  classes:\n    - value: 1\n      name: phishing\n    - value: 0\n      name: legitimate\n");
        var rows = Enumerable.Range(0, 300).Select(i => string.Create(CultureInfo.InvariantCulture, $"{(i % 30) - 14.5},{(((i % 30) >= 15) != (i % 10 == 3) ? 1 : 0)}"));
        var data = dir.File("one.csv", "x,label\n" + string.Join('\n', rows) + "\n");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "train", "--data", data, "--schema", schema, "--mode", "gbdt", "--Pipeline:OverfittingThreshold=1");
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");

        var input = dir.File("sites.csv", "x\n14.5\n-14.5\n");
        var output = Path.Combine(dir.Path, "verdicts.csv");
        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "predict", "--schema", schema, "--input", input, "--output", output);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var lines = File.ReadAllLines(output);
        Assert.Equal("x,predicted_column,phishing_probability,verdict", lines[0]);
        Assert.EndsWith(",phishing", lines[1]);
        Assert.EndsWith(",legitimate", lines[2]);

        // An empty line among the records is a record whose one value is missing, refused naming its line as a wider
        // file's record with every cell empty is: it was skipped, and 3 records were answered with 2 verdicts.
        input = dir.File("gap.csv", "x\n14.5\n\n-14.5\n\n");
        File.Delete(output);
        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "predict", "--schema", schema, "--input", input, "--output", output);
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"{input}, line 3: 1 of 1 features are missing", stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_model_of_one_feature_whose_name_has_a_space_scores_a_file_of_that_column()
    {
        // A name may have a space inside: the file of its records was refused as "separated by spaces".
        using var dir = new TempDirectory();
        var schema = dir.File("one.yaml", "version: 1\nfeatures:\n  - name: URL Length\n    type: float\ntarget:\n  name: label\n  classes:\n    - value: 1\n      name: phishing\n    - value: 0\n      name: legitimate\n");
        var rows = Enumerable.Range(0, 300).Select(i => string.Create(CultureInfo.InvariantCulture, $"{(i % 30) - 14.5},{(((i % 30) >= 15) != (i % 10 == 3) ? 1 : 0)}"));
        var data = dir.File("one.csv", "URL Length,label\n" + string.Join('\n', rows) + "\n");
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], "train", "--data", data, "--schema", schema, "--mode", "gbdt", "--Pipeline:OverfittingThreshold=1");
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");

        var input = dir.File("sites.csv", "URL Length\n14.5\n-14.5\n");
        var output = Path.Combine(dir.Path, "verdicts.csv");
        (code, stdout, stderr) = ProgramProcess.Run(dir, [], "predict", "--schema", schema, "--input", input, "--output", output);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith(",phishing", lines[1]);
        Assert.EndsWith(",legitimate", lines[2]);
    }
}
