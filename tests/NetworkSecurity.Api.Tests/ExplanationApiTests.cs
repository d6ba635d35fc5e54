using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Tests;

/// <summary>?explain on the prediction endpoints, the model card's importance, and predict --explain.</summary>
[Collection(TrainedModelCollection.Name)]
public sealed class ExplanationApiTests(TrainedModelFixture model) : IDisposable
{
    private static readonly string[] Lines = File.ReadAllText(TestPaths.DataFile).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    private readonly ApiFactory _factory = model.CreateFactory();

    public void Dispose() => _factory.Dispose();

    private static string Csv(int rows) => string.Join('\n', Lines.Take(rows + 1));

    private async Task<HttpResponseMessage> PostCsvAsync(string query, string csv, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict" + query) { Content = new StringContent(csv, Encoding.UTF8, "text/csv") };
        request.Headers.Accept.ParseAdd(accept);
        return await _factory.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task Explain_all_gives_contributions_that_add_up_to_the_phishing_probability()
    {
        using var response = await PostCsvAsync("?explain=all", Csv(60), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var predictions = json.RootElement.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(60, predictions.Length);
        foreach (var p in predictions)
        {
            var why = p.GetProperty("explanation");
            Assert.Equal("log_odds", why.GetProperty("scale").GetString()); // the fixture model is boosted trees
            var features = why.GetProperty("features").EnumerateArray().ToArray();
            Assert.Equal(30, features.Length);
            var score = why.GetProperty("base_value").GetDouble() + features.Sum(f => f.GetProperty("contribution").GetDouble());
            Assert.InRange(Math.Abs(p.GetProperty("phishing_probability").GetDouble() - (1 / (1 + Math.Exp(-score)))), 0, 6e-7); // the answer rounds to 6 places

            // Largest |contribution| first; values are the record's own; nothing was missing.
            var magnitudes = features.Select(f => Math.Abs(f.GetProperty("contribution").GetDouble())).ToArray();
            Assert.Equal(magnitudes.OrderByDescending(m => m), magnitudes);
            Assert.All(features, f => Assert.False(f.GetProperty("imputed").GetBoolean()));
            var first = features[0];
            var name = first.GetProperty("feature").GetString()!;
            Assert.Equal(p.GetProperty("values").GetProperty(name).GetString(), first.GetProperty("value").GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Without_the_option_nothing_changes()
    {
        using var response = await PostCsvAsync("", Csv(5), "application/json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("explanation", text);

        using var html = await PostCsvAsync("", Csv(5), "text/html");
        Assert.DoesNotContain("class=\"why\"", await html.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("?explain=lots")]
    [InlineData("?explain=0")]
    [InlineData("?explain=31")]
    [InlineData("?explain=")]
    [InlineData("?explain=2&explain=3")]
    [InlineData("?explain=3%00")] // read as 3: .NET's number parser reads past trailing NULs
    public async Task An_unknown_explain_value_is_a_400_naming_the_allowed_values(string query)
    {
        using var response = await PostCsvAsync(query, Csv(3), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("1 to 30", text);
        Assert.Contains("'all'", text);

        using var json = await _factory.CreateClient().PostAsJsonAsync("/predict/json" + query, new { records = new[] { Record(1) } });
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Contains("1 to 30", await json.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_upload_with_more_records_to_explain_than_allowed_is_a_413_naming_the_limit_and_without_explain_is_scored()
    {
        // Every explanation is held until the answer is written (about 2 KB a distinct record): a 49 MB upload of
        // distinct rows with ?explain=all grew the service by 450 MB before the time budget stopped it.
        using var factory = model.CreateFactory(new Dictionary<string, string?> { ["Api:MaxExplainRows"] = "10" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict?explain=all") { Content = new StringContent(Csv(11), Encoding.UTF8, "text/csv") };
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await factory.CreateClient().SendAsync(request);
        var problem = await HttpTestHelpers.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("request body: explanations are given for at most 10 records per request; send fewer records, or leave out explain.", problem.GetProperty("detail").GetString());

        using var ten = new HttpRequestMessage(HttpMethod.Post, "/predict?explain=all") { Content = new StringContent(Csv(10), Encoding.UTF8, "text/csv") };
        ten.Headers.Accept.ParseAdd("application/json");
        using var within = await factory.CreateClient().SendAsync(ten);
        Assert.Equal(HttpStatusCode.OK, within.StatusCode);
        using var plain = await factory.CreateClient().PostAsync("/predict", new StringContent(Csv(11), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);

        // JSON records too: the limit held for CSV uploads only, and /predict/json?explain=all explained as many records
        // as Api:MaxJsonRecords lets through (100,000 by default, whatever Api:MaxExplainRows said).
        using var json = await factory.CreateClient().PostAsJsonAsync("/predict/json?explain=all", new { records = Enumerable.Range(1, 11).Select(Record).ToArray() });
        Assert.Equal("request: explanations are given for at most 10 records per request; send fewer records, or leave out explain.",
            (await HttpTestHelpers.ProblemAsync(json, HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString());
        using var jsonWithin = await factory.CreateClient().PostAsJsonAsync("/predict/json?explain=all", new { records = Enumerable.Range(1, 10).Select(Record).ToArray() });
        Assert.Equal(HttpStatusCode.OK, jsonWithin.StatusCode);
        using var jsonPlain = await factory.CreateClient().PostAsJsonAsync("/predict/json", new { records = Enumerable.Range(1, 11).Select(Record).ToArray() });
        Assert.Equal(HttpStatusCode.OK, jsonPlain.StatusCode);
    }

    [Fact]
    public async Task Csv_and_html_answers_carry_the_why_columns()
    {
        using var csv = await PostCsvAsync("?explain=2", Csv(20), "text/csv");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith(",verdict,explanation_scale,explanation_base,why_1_feature,why_1_value,why_1_imputed,why_1_contribution,why_2_feature,why_2_value,why_2_imputed,why_2_contribution", lines[0].TrimEnd('\r'));
        Assert.Equal(21, lines.Length);
        Assert.All(lines.Skip(1), line => Assert.Equal(lines[0].Split(',').Length, line.Split(',').Length));
        Assert.Contains(",log_odds,", lines[1]);
        Assert.DoesNotMatch(",-0(,|$)", string.Join('\n', lines)); // a contribution of nothing is 0

        using var html = await PostCsvAsync("?explain=3", Csv(20), "text/html");
        var page = await html.Content.ReadAsStringAsync();
        Assert.Contains("<th class=\"why\"", page);
        var cells = System.Text.RegularExpressions.Regex.Matches(page, "<td class=\"why\">([^<]*)</td>");
        Assert.Equal(20, cells.Count);
        Assert.All(cells, c => Assert.Matches(@"^\w+ = -?\d \([+-]\d+\.\d+\); \w+ = -?\d \([+-]\d+\.\d+\); \w+ = -?\d \([+-]\d+\.\d+\)$", c.Groups[1].Value));
        // As many features as asked for, as in JSON and CSV (the page once showed three whatever was asked).
        using var five = await PostCsvAsync("?explain=5", Csv(4), "text/html");
        var fiveCells = System.Text.RegularExpressions.Regex.Matches(await five.Content.ReadAsStringAsync(), "<td class=\"why\">([^<]*)</td>");
        Assert.Equal(4, fiveCells.Count);
        Assert.All(fiveCells, c => Assert.Equal(5, c.Groups[1].Value.Split("; ").Length));
    }

    [Fact]
    public async Task Json_records_get_an_explanation_that_marks_imputed_values()
    {
        var records = new[] { Record(1), Record(2) };
        records[1]["SSLfinal_State"] = null;
        using var response = await _factory.CreateClient().PostAsJsonAsync("/predict/json?explain=all", new { records });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var second = json.RootElement.GetProperty("predictions")[1];
        var features = second.GetProperty("explanation").GetProperty("features").EnumerateArray().ToArray();
        Assert.Equal(30, features.Length);
        var ssl = features.Single(f => f.GetProperty("feature").GetString() == "SSLfinal_State");
        Assert.True(ssl.GetProperty("imputed").GetBoolean());
        Assert.Single(features, f => f.GetProperty("imputed").GetBoolean());
        var score = second.GetProperty("explanation").GetProperty("base_value").GetDouble() + features.Sum(f => f.GetProperty("contribution").GetDouble());
        Assert.Equal(second.GetProperty("phishing_probability").GetDouble(), 1 / (1 + Math.Exp(-score)), 9);

        using var plain = await _factory.CreateClient().PostAsJsonAsync("/predict/json", new { records });
        Assert.DoesNotContain("explanation", await plain.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Json_records_explained_in_one_batch_get_what_each_gets_alone()
    {
        // 150 records (more than one block of rows), copies among them, one with a missing value.
        var records = Enumerable.Range(1, 150).Select(i => Record(i <= 120 ? i : i - 100)).ToArray();
        records[7]["URL_of_Anchor"] = null;
        using var batch = await _factory.CreateClient().PostAsJsonAsync("/predict/json?explain=all", new { records });
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        using var json = JsonDocument.Parse(await batch.Content.ReadAsStringAsync());
        var predictions = json.RootElement.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(150, predictions.Length);
        foreach (var i in new[] { 0, 7, 60, 119, 120, 149 })
        {
            using var alone = await _factory.CreateClient().PostAsJsonAsync("/predict/json?explain=all", new { records = new[] { records[i] } });
            using var single = JsonDocument.Parse(await alone.Content.ReadAsStringAsync());
            var expected = single.RootElement.GetProperty("predictions")[0].GetProperty("explanation").GetRawText();
            Assert.Equal(expected, predictions[i].GetProperty("explanation").GetRawText());
        }

        // A copy (record 121 is line 21, as record 21) gets the same explanation.
        Assert.Equal(predictions[20].GetProperty("explanation").GetRawText(), predictions[120].GetProperty("explanation").GetRawText());
    }

    [Fact]
    public async Task Model_card_has_the_global_importance_of_every_feature()
    {
        using var response = await _factory.CreateClient().GetAsync("/model");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var importance = json.RootElement.GetProperty("importance");
        Assert.Equal("log_odds", importance.GetProperty("scale").GetString());
        Assert.InRange(importance.GetProperty("rows").GetInt32(), 400, 2211); // test rows represented (at most 400 distinct ones explained)
        var values = importance.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("mean_abs_contribution").GetDouble()).ToArray();
        Assert.Equal(30, values.Length);
        Assert.Equal(values.OrderByDescending(v => v), values);
        Assert.True(values[0] > 0.1, $"top importance {values[0]}");
        Assert.Contains(importance.GetProperty("features").EnumerateArray().Take(3), f => f.GetProperty("feature").GetString() == "SSLfinal_State");

        var home = await _factory.CreateClient().GetStringAsync("/");
        Assert.Contains("<svg id=\"importance\"", home);
        Assert.Contains("data-feature=\"SSLfinal_State\"", home);

        // The caption says how many of the test rows the estimate stands for: "on 463 test rows" read as the test split's size.
        var testRows = json.RootElement.GetProperty("test_rows").GetInt32();
        Assert.True(importance.GetProperty("rows").GetInt32() < testRows);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"mean |contribution| on {importance.GetProperty("rows").GetInt32():N0} of {testRows:N0} test rows"), home);
    }

    [Fact]
    public async Task A_model_that_cannot_explain_answers_400_not_500()
    {
        // The fixture's model as a format-1 file would load it: trees without node cover.
        var live = new ModelStore(model.FinalModelDirectory).LoadCurrent(null)!;
        var boosted = (GradientBoostingModel)live.Classifier;
        var old = new GradientBoostingModel(boosted.FeatureCount, boosted.BaseScore, boosted.Trees.Select(t => new FlatTree(t.Nodes)).ToArray());
        using var dir = new TempDirectory();
        var folder = Path.Combine(dir.Path, "final_model");
        new ModelStore(folder).Promote(new ModelBundle(live.SchemaFingerprint, live.FeatureNames, live.Imputer, old, live.Card));
        using var factory = new ApiFactory(folder, Path.Combine(dir.Path, "Artifacts"));
        var client = factory.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict?explain=3") { Content = new StringContent(Csv(3), Encoding.UTF8, "text/csv") };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("retrain", await response.Content.ReadAsStringAsync());

        using var json = await client.PostAsJsonAsync("/predict/json?explain=1", new { records = new[] { Record(1) } });
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        using var plain = await client.PostAsJsonAsync("/predict/json", new { records = new[] { Record(1) } });
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task Predict_command_with_explain_writes_the_same_columns()
    {
        using var dir = new TempDirectory();
        var input = dir.File("in.csv", Csv(40));
        var output = Path.Combine(dir.Path, "out.csv");
        string[] common = ["--schema", TestPaths.SchemaFile, "--final-model", model.FinalModelDirectory, "--logs", Path.Combine(dir.Path, "Logs")];
        Assert.Equal(CommandLine.Success, await CommandLine.RunAsync(["predict", "--input", input, "--output", output, "--explain", "3", .. common]));
        var lines = File.ReadAllLines(output);
        Assert.Equal(41, lines.Length);
        Assert.EndsWith(",verdict,explanation_scale,explanation_base,why_1_feature,why_1_value,why_1_imputed,why_1_contribution,why_2_feature,why_2_value,why_2_imputed,why_2_contribution,why_3_feature,why_3_value,why_3_imputed,why_3_contribution", lines[0]);
        Assert.Equal(CommandLine.UsageError, await CommandLine.RunAsync(["predict", "--input", input, "--output", output, "--explain", "many", .. common]));
    }

    private static Dictionary<string, object?> Record(int line)
    {
        var header = Lines[0].Trim().Split(',');
        return header.Zip(Lines[line].Trim().Split(',')).Where(p => p.First != "Result")
            .ToDictionary(p => p.First, p => (object?)int.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture));
    }
}
