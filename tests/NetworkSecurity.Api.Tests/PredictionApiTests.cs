using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

[Collection(TrainedModelCollection.Name)]
public sealed class PredictionApiTests(TrainedModelFixture model) : IDisposable
{
    private static readonly string DataCsv = File.ReadAllText(TestPaths.DataFile);
    private readonly ApiFactory _factory = model.CreateFactory();

    public void Dispose() => _factory.Dispose();

    private static string[] Lines => DataCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static MultipartFormDataContent Upload(string csv, string name = "sites.csv")
    {
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return new MultipartFormDataContent { { file, "file", name } };
    }

    private static StringContent CsvBody(string csv) => new(csv, Encoding.UTF8, "text/csv");

    private async Task<HttpResponseMessage> PostAsync(HttpContent content, string accept = "text/html", string path = "/predict")
    {
        var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Accept.ParseAdd(accept);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Multipart_upload_returns_an_html_table_with_counts_and_the_model_version()
    {
        using var response = await PostAsync(Upload(string.Join('\n', Lines.Take(51))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(model.Version, response.Headers.GetValues("X-Model-Version").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<table id=\"predictions\">", html);
        Assert.Contains("<th>predicted_column</th>", html);
        Assert.Contains("<th class=\"key prob\">phishing_probability</th>", html);
        Assert.Equal(50, html.Split("<tr").Length - 2); // header row + 50 records
        Assert.Contains("class=\"phishing\"", html);
        Assert.Contains("<b id=\"record-count\">50</b> records", html);
    }

    [Fact]
    public async Task Json_output_scores_the_whole_data_set_accurately()
    {
        using var response = await PostAsync(CsvBody(DataCsv), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(model.Version, root.GetProperty("model_version").GetString());
        Assert.Equal(11055, root.GetProperty("count").GetInt32());
        var predictions = root.GetProperty("predictions");
        Assert.Equal(11055, predictions.GetArrayLength());
        Assert.Equal(11055, root.GetProperty("phishing").GetInt32() + root.GetProperty("legitimate").GetInt32());

        var correct = predictions.EnumerateArray().Count(p =>
            p.GetProperty("values").GetProperty("Result").GetString() == p.GetProperty("predicted_column").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(correct > 0.95 * 11055, $"{correct} correct");
        var first = predictions[0];
        Assert.Equal("line 2", first.GetProperty("row").GetString());
        var probability = first.GetProperty("phishing_probability").GetDouble();
        Assert.InRange(probability, 0, 1);
        Assert.Equal(probability >= 0.5 ? "phishing" : "legitimate", first.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task Columns_match_by_name_or_alias_in_any_order_and_extra_columns_are_echoed()
    {
        var header = Lines[0].Split(',');
        var reordered = new StringBuilder();
        reordered.AppendLine("note," + string.Join(',', header.Reverse().Select(h => h == "port" ? "port_no" : h)));
        foreach (var line in Lines.Skip(1).Take(30))
        {
            reordered.AppendLine("x," + string.Join(',', line.Trim().Split(',').Reverse()));
        }

        var original = await ProbabilitiesAsync(string.Join('\n', Lines.Take(31)));
        var shuffled = await ProbabilitiesAsync(reordered.ToString());
        Assert.Equal(original, shuffled);
    }

    [Fact]
    public async Task Json_answer_echoes_every_value_as_sent_repeated_escaped_or_many_distinct()
    {
        // The writer encodes a column's first few distinct values once and reuses them: a note column with values
        // needing escaping, repeated, and more distinct ones than it keeps must still come back exactly as sent.
        var notes = new[] { "\"quoted\"", "<b>&amp;", "é ü 漢", "", "plain" }
            .Concat(Enumerable.Range(0, 20).Select(i => $"n{i}"))
            .ToArray();
        var csv = new StringBuilder("note," + Lines[0].Trim() + "\n");
        var sent = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var note = notes[(i * 7) % notes.Length];
            sent.Add(note);
            var cells = Lines[1 + i].Trim().Split(',');
            cells[i % 30] = i % 3 == 0 ? "" : cells[i % 30];
            csv.Append('"').Append(note.Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\",").AppendJoin(',', cells).Append('\n');
        }

        using var response = await PostAsync(CsvBody(csv.ToString()), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var predictions = json.RootElement.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(sent, predictions.Select(p => p.GetProperty("values").GetProperty("note").GetString()));
        for (var i = 0; i < predictions.Length; i++)
        {
            var cells = Lines[1 + i].Trim().Split(',');
            var values = predictions[i].GetProperty("values");
            Assert.Equal(i % 3 == 0 ? "" : cells[i % 30], values.GetProperty(Lines[0].Trim().Split(',')[i % 30]).GetString());
            Assert.Equal(cells[^1], values.GetProperty("Result").GetString());
        }
    }

    [Fact]
    public async Task A_repeated_extra_column_keeps_every_value_in_json_as_in_csv()
    {
        var csv = "dup,dup,dup_2," + Lines[0].Trim() + "\na,b,c," + Lines[1].Trim() + "\n";
        using var response = await PostAsync(CsvBody(csv), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var values = json.RootElement.GetProperty("predictions")[0].GetProperty("values");
        // The input's own dup_2 keeps its name and value; the repeated dup takes the next free name.
        Assert.Equal(("a", "b", "c"), (values.GetProperty("dup").GetString(), values.GetProperty("dup_3").GetString(), values.GetProperty("dup_2").GetString()));

        // The CSV answer names them alike; names that differ in case are different names in both.
        using var asCsv = await PostAsync(CsvBody(csv), "text/csv");
        Assert.StartsWith("dup,dup_3,dup_2,having_IP_Address,", await asCsv.Content.ReadAsStringAsync());
        var cased = "note,Note,NOTE,note," + Lines[0].Trim() + "\na,b,c,d," + Lines[1].Trim() + "\n";
        using var casedCsv = await PostAsync(CsvBody(cased), "text/csv");
        Assert.StartsWith("note,Note,NOTE,note_2,having_IP_Address,", await casedCsv.Content.ReadAsStringAsync());
        using var casedJson = await PostAsync(CsvBody(cased), "application/json");
        using var casedValues = JsonDocument.Parse(await casedJson.Content.ReadAsStringAsync());
        Assert.Equal("note,Note,NOTE,note_2", string.Join(',', casedValues.RootElement.GetProperty("predictions")[0].GetProperty("values").EnumerateObject().Take(4).Select(p => p.Name)));

        // Columns without a name are named by their position, in JSON and CSV alike.
        var blank = "x,, ,column_3," + Lines[0].Trim() + "\na,b,c,d," + Lines[1].Trim() + "\n";
        using var blankCsv = await PostAsync(CsvBody(blank), "text/csv");
        Assert.Equal("x,column_2,column_3_2,column_3,having_IP_Address", string.Join(',', (await blankCsv.Content.ReadAsStringAsync()).Split('\n')[0].Split(',').Take(5)));
        using var blankJson = await PostAsync(CsvBody(blank), "application/json");
        using var blankValues = JsonDocument.Parse(await blankJson.Content.ReadAsStringAsync());
        Assert.Equal("x=a,column_2=b,column_3_2=c,column_3=d", string.Join(',', blankValues.RootElement.GetProperty("predictions")[0].GetProperty("values").EnumerateObject().Take(4).Select(p => $"{p.Name}={p.Value.GetString()}")));
        using var blankHtml = await PostAsync(CsvBody(blank), "text/html");
        Assert.Contains("<th>x</th><th>column_2</th><th>column_3_2</th><th>column_3</th>", await blankHtml.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Empty_and_na_cells_are_imputed()
    {
        var cells = Lines[1].Trim().Split(',');
        cells[3] = "";
        cells[7] = "na";
        using var response = await PostAsync(CsvBody(Lines[0] + "\n" + string.Join(',', cells)), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_feature_empty_in_every_record_is_named_in_every_format_and_a_given_one_is_not()
    {
        string Csv(int records) => Lines[0].Trim() + "\n" + string.Join('\n', Lines.Skip(1).Take(records).Select(l =>
        {
            var cells = l.Trim().Split(',');
            cells[7] = ""; // SSLfinal_State, as from an export that lost the column's values
            return string.Join(',', cells);
        })) + "\n";

        using (var json = await PostAsync(CsvBody(Csv(20)), "application/json"))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
            Assert.Equal("SSLfinal_State", json.Headers.GetValues("X-Empty-Features").Single());
            Assert.Equal(["Accept"], json.Headers.Vary); // the format follows Accept: caches must tell the answers apart
            using var body = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
            Assert.Equal(["SSLfinal_State"], body.RootElement.GetProperty("empty_features").EnumerateArray().Select(e => e.GetString()));
        }

        using (var html = await PostAsync(Upload(Csv(20))))
        {
            Assert.Equal("SSLfinal_State", html.Headers.GetValues("X-Empty-Features").Single());
            Assert.Contains("<p class=\"error\" id=\"empty-features\">SSLfinal_State has no value in any of the 20 records: imputed in every one", await html.Content.ReadAsStringAsync());
        }

        using (var csv = await PostAsync(CsvBody(Csv(20)), "text/csv"))
        {
            Assert.Equal("SSLfinal_State", csv.Headers.GetValues("X-Empty-Features").Single());
        }

        // One record with a missing value is ordinary imputation; a column given anywhere is not empty.
        using var one = await PostAsync(CsvBody(Csv(1)), "application/json");
        Assert.False(one.Headers.Contains("X-Empty-Features"));
        using (var body = JsonDocument.Parse(await one.Content.ReadAsStringAsync()))
        {
            Assert.Equal(0, body.RootElement.GetProperty("empty_features").GetArrayLength());
        }

        using var given = await PostAsync(Upload(Csv(20) + Lines[30].Trim() + "\n"));
        Assert.False(given.Headers.Contains("X-Empty-Features"));
        Assert.DoesNotContain("empty-features", await given.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Csv_output_neutralises_formulas_and_keeps_numbers()
    {
        var csv = Lines[0].Trim() + ",comment,note\n" + Lines[1].Trim() + ",=SUM(A1:A9),@cmd\n";
        using var response = await PostAsync(CsvBody(csv), "text/csv");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("comment,note,predicted_column,phishing_probability,verdict", lines[0].TrimEnd());
        Assert.StartsWith("-1,1,1,1,-1", lines[1]);
        Assert.Contains(",'=SUM(A1:A9),'@cmd,", lines[1]);
    }

    [Fact]
    public async Task Html_output_encodes_every_cell()
    {
        var csv = Lines[0].Trim() + ",comment\n" + Lines[1].Trim() + ",<script>alert(1)</script>\n";
        using var response = await PostAsync(Upload(csv, "<b>evil</b>.csv"));
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>alert", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
    }

    [Fact]
    public async Task A_previous_answer_scored_again_shows_its_old_verdict_columns_as_input_columns_in_html_as_in_csv()
    {
        // The HTML table showed the old verdict, phishing_probability and predicted_column under the same names as the
        // new ones, where the CSV answer names them input_<name>: two 'verdict' columns that could disagree.
        var flipped = Lines[0].Trim() + ",predicted_column,phishing_probability,verdict,why\n" + Lines[1].Trim() + ",1,0.01,legitimate,old\n";
        using var csvResponse = await PostAsync(Upload(flipped), "text/csv");
        var csvHeader = (await csvResponse.Content.ReadAsStringAsync()).Split('\n')[0].Trim().Split(',');
        Assert.Equal(["input_predicted_column", "input_phishing_probability", "input_verdict", "why", "predicted_column", "phishing_probability", "verdict"], csvHeader[^7..]);

        using var htmlResponse = await PostAsync(Upload(flipped));
        var html = await htmlResponse.Content.ReadAsStringAsync();
        var head = System.Text.RegularExpressions.Regex.Matches(html, "<th[^>]*>([^<]*)</th>").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(["#", "verdict", "phishing_probability", "predicted_column"], head[..4]);
        Assert.Equal(csvHeader[..^3], head[4..]); // the input columns, named as the CSV answer names them
        Assert.Equal(head.Length, head.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        // Asked why, the page adds a why column too: the input's own is input_why there.
        using var explained = await PostAsync(Upload(flipped), "text/html", "/predict?explain=2");
        var whyHead = System.Text.RegularExpressions.Regex.Matches(await explained.Content.ReadAsStringAsync(), "<th[^>]*>([^<]*)</th>").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(["input_predicted_column", "input_phishing_probability", "input_verdict", "input_why"], whyHead[^4..]);
        Assert.Equal(whyHead.Length, whyHead.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        // A spreadsheet's row-number column named like the table's first one: input_#.
        using var numbered = await PostAsync(Upload("#," + Lines[0].Trim() + "\n7," + Lines[1].Trim() + "\n"));
        var numberedHead = System.Text.RegularExpressions.Regex.Matches(await numbered.Content.ReadAsStringAsync(), "<th[^>]*>([^<]*)</th>").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(["#", "verdict", "phishing_probability", "predicted_column", "input_#"], numberedHead[..5]);
    }

    [Fact]
    public async Task Bad_cells_give_400_problem_details_listing_every_problem_with_line_column_and_field()
    {
        var bad1 = Lines[1].Trim().Split(',');
        bad1[1] = "abc";
        var bad2 = Lines[2].Trim().Split(',');
        bad2[7] = "5";
        // A line with another number of fields is one more bad record, not the end of the reading.
        var csv = string.Join('\n', Lines[0], string.Join(',', bad1), "1,1", string.Join(',', bad2), Lines[3]);
        using var response = await PostAsync(CsvBody(csv), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors");
        Assert.Equal(3, errors.GetArrayLength());
        Assert.Equal("line 2", errors[0].GetProperty("location").GetString());
        Assert.Equal(2, errors[0].GetProperty("column").GetInt32());
        Assert.Equal("URL_Length", errors[0].GetProperty("field").GetString());
        Assert.Equal("line 3", errors[1].GetProperty("location").GetString());
        Assert.Contains("2 fields but the header has 31", errors[1].GetProperty("message").GetString());
        Assert.Equal("line 4", errors[2].GetProperty("location").GetString());
        Assert.Equal("SSLfinal_State", errors[2].GetProperty("field").GetString());
        Assert.DoesNotContain("   at ", problem.RootElement.ToString()); // no stack trace
    }

    [Theory]
    [InlineData("having_IP_Address,URL_Length\n1,1\n", "missing column(s)")]
    [InlineData("", "empty")]
    [InlineData("a;b;c\n1;2;3\n", "comma- or tab-separated")]
    public async Task Malformed_csv_gives_400(string csv, string expected)
    {
        using var response = await PostAsync(CsvBody(csv), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_file_separated_by_spaces_is_refused_as_such_not_as_missing_every_column()
    {
        // Its header is one column with spaces, and so is its first record: "missing column(s): having_IP_Address, …
        // and 18 more" sent the user looking for columns that were all there.
        var spaced = string.Join('\n', Lines.Take(3).Select(l => l.Trim().Replace(',', ' '))) + "\n";
        using var response = await PostAsync(CsvBody(spaced), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("request body, line 1: expected comma- or tab-separated columns. It looks separated by spaces.", problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Multipart_without_a_file_field_gives_400()
    {
        var content = new MultipartFormDataContent { { new StringContent("x"), "other" } };
        using var response = await PostAsync(content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("no field named 'file'", System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync())); // text/html asked: a page
    }

    [Fact]
    public async Task A_browser_that_uploads_a_bad_file_gets_a_page_listing_every_problem_with_the_same_status()
    {
        // The home page's form showed the raw problem JSON: no page, no way back to try another file.
        var bad = Lines[1].Trim().Split(',');
        bad[1] = "<b>x</b>";
        bad[7] = "5";
        var csv = Lines[0].Trim() + "\n" + string.Join(',', bad) + "\n";
        const string browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        var client = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = Upload(csv) };
        request.Headers.TryAddWithoutValidation("Accept", browser);
        using var page = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(model.Version, page.Headers.GetValues("X-Model-Version").Single());
        Assert.Contains("style-src 'sha256-", page.Headers.GetValues("Content-Security-Policy").Single()); // the pages' policy: the style applies
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<h2>The input is not valid</h2>", html);
        Assert.Contains("sites.csv: 2 problem(s) in 1 record(s)", html);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(html, "<tr><td class=\"text\">line 2</td>").Count); // one row per problem
        Assert.Contains("<td class=\"text\">URL_Length</td>", html);
        Assert.Contains("&lt;b&gt;x&lt;/b&gt;", html);
        Assert.DoesNotContain("<b>x</b>", html);
        Assert.Contains("<a id=\"try-again\" href=\"/\">", html);
        using (var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json")))
        {
            var refusal = document.RootElement.GetProperty("paths").GetProperty("/predict").GetProperty("post").GetProperty("responses").GetProperty("400").GetProperty("content");
            Assert.Equal(["application/problem+json", "text/html"], refusal.EnumerateObject().Select(p => p.Name).ToArray());
        }

        // Scripts keep the ProblemDetails JSON: curl's */*, or JSON asked for.
        foreach (var accept in new[] { "*/*", "application/json" })
        {
            using var json = await PostAsync(Upload(csv), accept);
            Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
            Assert.Equal("application/problem+json", json.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
            Assert.Equal(2, problem.RootElement.GetProperty("errors").GetArrayLength());
        }

        // The results address reopened or bookmarked (a GET): a page saying where scoring starts, with the way back.
        using var reopen = new HttpRequestMessage(HttpMethod.Get, "/predict");
        reopen.Headers.TryAddWithoutValidation("Accept", browser);
        using var reopened = await client.SendAsync(reopen);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, reopened.StatusCode);
        Assert.Equal("text/html", reopened.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["POST"], reopened.Content.Headers.Allow);
        var reopenedHtml = await reopened.Content.ReadAsStringAsync();
        Assert.Contains("there is nothing to show at this address. Upload a file on the home page (/).", reopenedHtml);
        Assert.Contains("<a id=\"try-again\" href=\"/\">", reopenedHtml);
        using var scripted = await client.GetAsync("/predict"); // no Accept: the ProblemDetails JSON, with the same detail
        Assert.Equal("application/problem+json", scripted.Content.Headers.ContentType?.MediaType);
        var scriptedProblem = await scripted.Content.ReadAsStringAsync();
        Assert.Contains("there is nothing to show at this address", scriptedProblem);
        // As every other 405 does: the service's endpoints, for a client that guessed the method.
        Assert.Contains("This service answers GET / (the page), POST /predict, POST /predict/json, POST /train", scriptedProblem);
    }

    [Fact]
    public async Task Wrong_content_type_gives_415()
    {
        using var response = await PostAsync(new StringContent("<x/>", Encoding.UTF8, "application/xml"), "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // Refused by routing (the endpoint does not accept XML), yet answered as the endpoint answers its own 415s.
        Assert.Equal(model.Version, response.Headers.GetValues("X-Model-Version").Single());
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Unsupported content type", problem.RootElement.GetProperty("title").GetString());
        Assert.StartsWith("Content type 'application/xml; charset=utf-8' is not supported", problem.RootElement.GetProperty("detail").GetString());
        // Its form follows Accept (a browser gets a page), so it says so, as every answer of POST /predict does.
        Assert.Contains("Accept", response.Headers.Vary);
        using var page = await PostAsync(new StringContent("<x/>", Encoding.UTF8, "application/xml"), "text/html");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", page.Headers.Vary);
        Assert.Contains("is not supported: send a CSV as multipart/form-data", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Uploads_over_the_size_or_row_limit_give_413()
    {
        using var small = model.CreateFactory(new Dictionary<string, string?> { ["Api:MaxUploadBytes"] = "4096", ["Api:MaxRows"] = "10" });
        var client = small.CreateClient();
        using var tooBig = await client.PostAsync("/predict", CsvBody(string.Join('\n', Lines.Take(200))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        using var tooBigMultipart = await client.PostAsync("/predict", Upload(string.Join('\n', Lines.Take(200))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigMultipart.StatusCode);
        using var tooManyRows = await client.PostAsync("/predict", CsvBody(string.Join('\n', Lines.Take(20))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooManyRows.StatusCode);
        Assert.Contains("more than 10 records", await tooManyRows.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Json_records_get_verdicts_in_order()
    {
        var header = Lines[0].Trim().Split(',');
        var records = Lines.Skip(1).Take(3).Select(line =>
            header.Zip(line.Trim().Split(',')).Where(p => p.First != "Result").ToDictionary(p => p.First, p => (object?)int.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        records[2]["Favicon"] = null; // imputed

        var client = _factory.CreateClient();
        using var response = await client.PostAsJsonAsync("/predict/json", new { records });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(model.Version, json.RootElement.GetProperty("model_version").GetString());
        var verdicts = json.RootElement.GetProperty("predictions");
        Assert.Equal(3, verdicts.GetArrayLength());
        var csvProbabilities = await ProbabilitiesAsync(string.Join('\n', Lines.Take(3)));
        Assert.Equal(csvProbabilities[0], verdicts[0].GetProperty("phishing_probability").GetDouble(), 6);
        Assert.Equal(csvProbabilities[1], verdicts[1].GetProperty("phishing_probability").GetDouble(), 6);
    }

    [Fact]
    public async Task Json_records_with_missing_or_bad_features_give_400_naming_record_and_field()
    {
        var client = _factory.CreateClient();
        using var response = await client.PostAsJsonAsync("/predict/json", new { records = new[] { new Dictionary<string, object> { ["URL_Length"] = 3 } } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("record 1", text);
        Assert.Contains("URL_Length", text);
        Assert.Contains("3 is not an allowed value", text);
        Assert.Contains("having_IP_Address", text); // absent feature

        using var notJson = await client.PostAsync("/predict/json", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
    }

    [Fact]
    public async Task A_json_string_value_with_a_nul_character_is_not_a_number_as_a_csv_cell_with_one_is_not()
    {
        // .NET's number parser reads past trailing NULs: "1\u0000" was scored as 1, where the same cell in a CSV is refused.
        var header = Lines[0].Trim().Split(',')[..^1];
        var values = Lines[1].Trim().Split(',')[..^1];
        var pairs = header.Zip(values).Select(p => p.First == "port" ? "\"port\": \"1\\u0000\"" : $"\"{p.First}\": {p.Second}");
        using var response = await _factory.CreateClient().PostAsync("/predict/json", new StringContent("{\"records\": [{" + string.Join(", ", pairs) + "}]}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = Assert.Single(problem.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal("port", error.GetProperty("field").GetString());
        Assert.Equal("record 1", error.GetProperty("location").GetString());
        Assert.Equal("\"1\\0\" is not a number.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Json_records_with_unknown_fields_give_400_naming_each_one_and_aliases_and_the_label_are_accepted()
    {
        var header = Lines[0].Trim().Split(',');
        var record = header.Zip(Lines[1].Trim().Split(',')).ToDictionary(p => p.First, p => (object?)int.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture));
        var client = _factory.CreateClient();

        using var labelled = await client.PostAsJsonAsync("/predict/json", new { records = new[] { record } }); // "Result" comes along
        Assert.Equal(HttpStatusCode.OK, labelled.StatusCode);

        record["colour"] = "red";
        record["SSL_final_State_typo"] = 1;
        record["   "] = 1; // a key of spaces only: named as such, not as a blank
        record.Remove("Favicon");
        using var response = await client.PostAsJsonAsync("/predict/json", new { records = new[] { record } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var fields = problem.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!).ToArray();
        Assert.Equal(["colour", "SSL_final_State_typo", "an empty name \"   \"", "Favicon"], fields);
        Assert.Contains("unknown field", problem.RootElement.GetProperty("errors")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_feature_null_in_every_json_record_is_named_in_a_header_and_a_single_record_is_plain_imputation()
    {
        var header = Lines[0].Trim().Split(',')[..^1];
        Dictionary<string, object?> Record(string line, bool lost) => header.Zip(line.Trim().Split(',')).ToDictionary(
            p => p.First, p => lost && p.First is "SSLfinal_State" or "port" ? null : (object?)int.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture));
        var client = _factory.CreateClient();

        using (var response = await client.PostAsJsonAsync("/predict/json", new { records = Lines.Skip(1).Take(5).Select(l => Record(l, lost: true)).ToArray() }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("SSLfinal_State, port", response.Headers.GetValues("X-Empty-Features").Single());
        }

        // Given in one record of the five: not empty.
        var mixed = Lines.Skip(1).Take(5).Select((l, i) => Record(l, lost: i > 0)).ToArray();
        using (var response = await client.PostAsJsonAsync("/predict/json", new { records = mixed }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("X-Empty-Features"));
        }

        using var one = await client.PostAsJsonAsync("/predict/json", new { records = new[] { Record(Lines[1], lost: true) } });
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.False(one.Headers.Contains("X-Empty-Features"));
    }

    [Fact]
    public async Task A_json_record_naming_a_feature_twice_and_a_body_with_content_after_its_object_give_400()
    {
        var header = Lines[0].Trim().Split(',')[..^1];
        var values = Lines[1].Trim().Split(',')[..^1];
        var pairs = header.Zip(values).Select(p => $"\"{p.First}\": {p.Second}").ToList();
        var client = _factory.CreateClient();
        async Task<(HttpStatusCode Status, JsonElement Problem)> PostAsync(string body)
        {
            using var response = await client.PostAsync("/predict/json", new StringContent(body, Encoding.UTF8, "application/json"));
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        var valid = "{\"records\": [{" + string.Join(", ", pairs) + "}]}";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(valid)).Status);

        // The same feature by its name twice, and by its name and its alias: which value was meant is a guess.
        foreach (var again in new[] { "\"port\": -1", "\"port_no\": -1" })
        {
            var (status, problem) = await PostAsync("{\"records\": [{" + string.Join(", ", pairs.Append(again)) + "}]}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
            Assert.Equal(again.Split('"')[1], error.GetProperty("field").GetString());
            Assert.Equal("record 1", error.GetProperty("location").GetString());
            Assert.Contains("gives feature port more than once", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Text or a second value after the object is a malformed body, not something to ignore.
        foreach (var trailing in new[] { " xx", " {}", "]" })
        {
            var (status, problem) = await PostAsync(valid + trailing);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("Malformed JSON", problem.GetProperty("title").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(valid + " /* a comment */ \n")).Status);
    }

    [Fact]
    public async Task Json_records_give_the_same_verdicts_however_names_and_values_are_spelled_and_ordered()
    {
        // Names spelled exactly are matched by their bytes (in the schema's order without even a search), -1/0/1 are
        // read directly; other letter cases and escaped names go through the case-insensitive dictionary. All must
        // read the same features.
        var header = Lines[0].Trim().Split(',')[..^1];
        var rows = Lines.Skip(1).Take(6).Select(l => l.Trim().Split(',')[..^1]).ToArray();
        string Record(string[] values, Func<string, int, string> key, Func<string, string> value, bool reversed)
        {
            var pairs = header.Select((name, i) => $"\"{key(name, i)}\": {value(values[i])}");
            return "{" + string.Join(", ", reversed ? pairs.Reverse() : pairs) + "}";
        }

        async Task<double[]> ProbabilitiesOf(Func<string, int, string> key, Func<string, string> value, bool reversed)
        {
            var body = "{\"records\": [" + string.Join(", ", rows.Select(r => Record(r, key, value, reversed))) + "]}";
            using var response = await _factory.CreateClient().PostAsync("/predict/json", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return [.. document.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("phishing_probability").GetDouble())];
        }

        var expected = await ProbabilitiesOf((name, _) => name, v => v, reversed: false);
        Assert.Equal(expected, await ProbabilitiesOf((name, _) => name, v => v, reversed: true));
        Assert.Equal(expected, await ProbabilitiesOf((name, _) => name.ToUpperInvariant(), v => v, reversed: false));
        Assert.Equal(expected, await ProbabilitiesOf((name, i) => i % 2 == 0 ? "\\u00" + ((int)name[0]).ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + name[1..] : name, v => v, reversed: false));
        Assert.Equal(expected, await ProbabilitiesOf((name, _) => name, v => v + ".0", reversed: false));
        Assert.Equal(expected, await ProbabilitiesOf((name, _) => name, v => "\"" + v + "\"", reversed: false));
        Assert.Equal(expected, await ProbabilitiesOf((name, i) => i % 3 == 0 ? " " + name + " " : name, v => v, reversed: false)); // as a CSV header reads
        // The fast path still checks the value: 2 is not allowed.
        var bad = "{\"records\": [" + Record(rows[0], (name, _) => name, v => v, reversed: false).Replace($"\"{header[4]}\": {rows[0][4]}", $"\"{header[4]}\": 2", StringComparison.Ordinal) + "]}";
        using var rejected = await _factory.CreateClient().PostAsync("/predict/json", new StringContent(bad, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains(header[4], await rejected.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0x72, 0x65, 0x63, 0x6F, 0x72, 0x64, 0x73, 0x22, 0x3A, 0x5B, 0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D, 0x5D, 0x7D })] // invalid UTF-8 in a name
    [InlineData(new byte[] { 0x7B, 0x22, 0x72, 0x65, 0x63, 0x6F, 0x72, 0x64, 0x73, 0x22, 0x3A, 0x5B, 0x7B, 0x22, 0x70, 0x6F, 0x72, 0x74, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D, 0x5D, 0x7D })] // invalid UTF-8 in a value
    [InlineData(new byte[] { 0x7B, 0x22, 0xDF, 0x22, 0x3A, 0x31, 0x7D })] // invalid UTF-8 in the body's own property name: {"<DF>":1}
    [InlineData(new byte[] { 0x7B, 0x22, 0x5C, 0x75, 0x44, 0x38, 0x30, 0x30, 0x22, 0x3A, 0x31, 0x7D })] // a lone surrogate escaped there: {"\uD800":1}
    [InlineData(new byte[] { 0x7B, 0x22, 0x72, 0x65, 0x63, 0x6F, 0x72, 0x64, 0x73, 0x22, 0x3A, 0x5B, 0x7B, 0x22, 0x5C, 0x75, 0x44, 0x38, 0x30, 0x30, 0x22, 0x3A, 0x31, 0x7D, 0x5D, 0x7D })] // in a record's name
    [InlineData(new byte[] { 0x7B, 0x22, 0x72, 0x65, 0x63, 0x6F, 0x72, 0x64, 0x73, 0x22, 0x3A, 0x5B, 0x7B, 0x22, 0x70, 0x6F, 0x72, 0x74, 0x22, 0x3A, 0x22, 0x5C, 0x75, 0x44, 0x43, 0x30, 0x30, 0x22, 0x7D, 0x5D, 0x7D })] // in a value: "\uDC00"
    [InlineData(new byte[] { 0x5B, 0x5D })] // not an object
    [InlineData(new byte[] { 0x7B, 0x7D })] // no records
    public async Task Malformed_json_bodies_give_400_not_500(byte[] body)
    {
        var client = _factory.CreateClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync("/predict/json", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Json_endpoint_answers_415_for_other_content_types_and_names_the_model_version()
    {
        var client = _factory.CreateClient();
        using var xml = await client.PostAsync("/predict/json", new StringContent("<records/>", Encoding.UTF8, "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, xml.StatusCode);
        Assert.Equal(model.Version, xml.Headers.GetValues("X-Model-Version").Single());

        var header = Lines[0].Trim().Split(',');
        var record = header.Zip(Lines[1].Trim().Split(',')).Where(p => p.First != "Result").ToDictionary(p => p.First, p => (object?)p.Second); // numbers as strings
        using var ok = await client.PostAsJsonAsync("/predict/json", new { records = new[] { record } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(model.Version, ok.Headers.GetValues("X-Model-Version").Single());
        Assert.Equal(ok.Content.Headers.ContentLength, (await ok.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Echo_false_gives_a_compact_answer_with_the_same_verdicts()
    {
        var csv = string.Join('\n', Lines.Take(21));
        var full = await ProbabilitiesAsync(csv);
        var client = _factory.CreateClient();
        using var jsonRequest = new HttpRequestMessage(HttpMethod.Post, "/predict?echo=false") { Content = CsvBody(csv) };
        jsonRequest.Headers.Accept.ParseAdd("application/json");
        using var json = await client.SendAsync(jsonRequest);
        using var document = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var predictions = document.RootElement.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(20, predictions.Length);
        Assert.All(predictions, p => Assert.False(p.TryGetProperty("values", out _)));
        Assert.Equal(full, predictions.Select(p => p.GetProperty("phishing_probability").GetDouble()));
        Assert.Equal("line 2", predictions[0].GetProperty("row").GetString());

        using var csvRequest = new HttpRequestMessage(HttpMethod.Post, "/predict?echo=false") { Content = CsvBody(csv) };
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        using var compact = await client.SendAsync(csvRequest);
        var lines = (await compact.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("row,predicted_column,phishing_probability,verdict", lines[0].TrimEnd());
        Assert.Equal(21, lines.Length);
    }

    private async Task<double[]> ProbabilitiesAsync(string csv)
    {
        using var response = await PostAsync(CsvBody(csv), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("phishing_probability").GetDouble()).ToArray();
    }
}
