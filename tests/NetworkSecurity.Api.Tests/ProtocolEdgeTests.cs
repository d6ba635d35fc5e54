using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NetworkSecurity.Pipeline.Tests;

using static NetworkSecurity.Api.Tests.HttpTestHelpers;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// HTTP at its edges, on a real Kestrel port on 127.0.0.1: media types, charsets, content codings, Accept with
/// q-values, multipart oddities, HEAD, query options given wrong, and where errors point. Each case was once a 500,
/// a silent wrong answer or a bare status.
/// </summary>
[Collection(TrainedModelCollection.Name)]
public sealed class ProtocolEdgeTests(TrainedModelFixture model) : IDisposable
{
    private static readonly string[] Lines = File.ReadAllLines(TestPaths.DataFile).Where(l => l.Length > 0).ToArray();
    private readonly ApiFactory _factory = model.CreateFactory();

    public void Dispose() => _factory.Dispose();

    private HttpClient Client()
    {
        _factory.UseLoopbackKestrel();
        _factory.StartServer();
        var client = _factory.CreateClient();
        Assert.Equal("127.0.0.1", client.BaseAddress!.Host); // the port Kestrel picked, on loopback only
        Assert.NotEqual(5000, client.BaseAddress.Port);
        return client;
    }

    private static string Csv(int rows) => string.Join('\n', Lines.Take(rows + 1));

    private static string Detail(JsonElement problem) => problem.GetProperty("detail").GetString() ?? "";

    private async Task<HttpResponseMessage> PostCsvAsync(HttpClient client, string accept, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict" + query) { Content = new StringContent(Csv(3), Encoding.UTF8, "text/csv") };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_boundary_longer_than_rfc_2046_allows_and_a_second_file_part_are_400s_not_a_500_or_lost_records()
    {
        var client = Client();
        var boundary = new string('a', 5000);
        using var longBoundary = await client.PostAsync("/predict", Raw("x", $"multipart/form-data; boundary={boundary}"));
        Assert.Contains("at most 70", Detail(await ProblemAsync(longBoundary, HttpStatusCode.BadRequest)));

        using var form = new MultipartFormDataContent
        {
            { new StringContent(Csv(1)), "file", "one.csv" },
            { new StringContent(Csv(2)), "file", "two.csv" },
        };
        using var two = await client.PostAsync("/predict", form);
        Assert.Contains("more than one field named 'file'", Detail(await ProblemAsync(two, HttpStatusCode.BadRequest)));
    }

    [Fact]
    public async Task A_charset_other_than_utf8_or_a_content_encoding_is_a_415_naming_it()
    {
        var client = Client();
        using var latin1 = await client.PostAsync("/predict", Raw(Csv(2), "text/csv; charset=iso-8859-1"));
        Assert.Contains("'iso-8859-1'", Detail(await ProblemAsync(latin1, HttpStatusCode.UnsupportedMediaType)));

        var part = new StringContent(Csv(2));
        part.Headers.ContentType = MediaTypeHeaderValue.Parse("text/csv; charset=utf-16le");
        using var form = new MultipartFormDataContent { { part, "file", "a.csv" } };
        using var utf16 = await client.PostAsync("/predict", form);
        Assert.Contains("'utf-16le' of the uploaded file", Detail(await ProblemAsync(utf16, HttpStatusCode.UnsupportedMediaType)));

        foreach (var (path, type) in new[] { ("/predict", "text/csv"), ("/predict/json", "application/json") })
        {
            var gzip = Raw(Csv(2), type);
            gzip.Headers.ContentEncoding.Add("gzip");
            using var compressed = await client.PostAsync(path, gzip);
            Assert.Contains("Content-Encoding 'gzip'", Detail(await ProblemAsync(compressed, HttpStatusCode.UnsupportedMediaType)));
        }

        using var utf8 = await client.PostAsync("/predict?echo=false", Raw(Csv(2), "text/csv; charset=UTF-8"));
        Assert.Equal(HttpStatusCode.OK, utf8.StatusCode);
        using var ascii = await client.PostAsync("/predict?echo=false", Raw(Csv(2), "text/csv; charset=ascii")); // a registered name of US-ASCII
        Assert.Equal(HttpStatusCode.OK, ascii.StatusCode);

        // Routing refuses a media type the endpoint does not take before the endpoint runs; the answer still says why.
        using var json = await client.PostAsync("/predict", Raw("{}", "application/json"));
        Assert.Contains("send a CSV", Detail(await ProblemAsync(json, HttpStatusCode.UnsupportedMediaType)));
    }

    [Fact]
    public async Task Invalid_utf8_in_a_csv_upload_is_a_400_naming_its_line_column_and_byte_not_replacement_characters()
    {
        var client = Client();
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        // A Latin-1 extra column: 'Straße' is 53 74 72 61 DF 65 there; it was echoed back as "Stra\uFFFDe" with a 200.
        byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);
        var csv = Latin1($"{Lines[0]},street\n{Lines[1]},Hauptweg\n{Lines[2]},Straße\n");
        var offset = Array.IndexOf(csv, (byte)0xDF);

        using var body = await client.PostAsync("/predict", Raw(csv, "text/csv"));
        var problem = await ProblemAsync(body, HttpStatusCode.BadRequest);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray().ToArray());
        Assert.Equal("line 3", error.GetProperty("location").GetString());
        Assert.Equal(32, error.GetProperty("column").GetInt32());
        Assert.Equal("street", error.GetProperty("field").GetString());
        Assert.StartsWith("request body, line 3, column 32 (street): ", Detail(problem));
        Assert.Contains($"0xDF at byte {offset + 1:N0}", Detail(problem));
        Assert.Contains("UTF-8", Detail(problem));

        using var form = new MultipartFormDataContent { { new ByteArrayContent(csv), "file", "latin1.csv" } };
        using var multipart = await client.PostAsync("/predict", form);
        Assert.StartsWith("latin1.csv, line 3, column 32 (street): ", Detail(await ProblemAsync(multipart, HttpStatusCode.BadRequest)));

        // In the header, and in a quoted cell over two lines (named by the line its record starts on, as other problems are).
        using var header = await client.PostAsync("/predict", Raw(Latin1($"{Lines[0]},Straße\n{Lines[1]},x\n"), "text/csv"));
        var inHeader = Assert.Single((await ProblemAsync(header, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateArray().ToArray());
        Assert.Equal("line 1", inHeader.GetProperty("location").GetString());
        Assert.Equal(32, inHeader.GetProperty("column").GetInt32());
        using var quoted = await client.PostAsync("/predict", Raw(Latin1($"{Lines[0]},street\n{Lines[1]},\"a\nStraße\"\n{Lines[2]},b\n"), "text/csv"));
        var inQuotes = Assert.Single((await ProblemAsync(quoted, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateArray().ToArray());
        Assert.Equal("line 2", inQuotes.GetProperty("location").GetString());
        Assert.Equal(32, inQuotes.GetProperty("column").GetInt32());
        Assert.Contains("on line 3", inQuotes.GetProperty("message").GetString());

        // The same text as UTF-8, with or without its byte order mark, is read and echoed as it is.
        foreach (var utf8 in new[] { Encoding.UTF8.GetBytes(Encoding.Latin1.GetString(csv)), [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Encoding.Latin1.GetString(csv))] })
        {
            using var ok = await client.PostAsync("/predict", Raw(utf8, "text/csv"));
            var text = await ok.Content.ReadAsStringAsync();
            Assert.True(ok.StatusCode == HttpStatusCode.OK, text);
            Assert.Equal("Straße", JsonDocument.Parse(text).RootElement.GetProperty("predictions")[1].GetProperty("values").GetProperty("street").GetString());
        }
    }

    [Theory]
    [InlineData("/predict", "text/csv", new byte[] { 0xFF, 0xFE }, "UTF-16 (little-endian)")]
    [InlineData("/predict", "text/csv", new byte[] { 0xFE, 0xFF }, "UTF-16 (big-endian)")]
    [InlineData("/predict", "text/csv", new byte[] { 0xFF, 0xFE, 0x00, 0x00 }, "UTF-32 (little-endian)")]
    [InlineData("/predict/json", "application/json", new byte[] { 0xFF, 0xFE }, "UTF-16 (little-endian)")]
    public async Task A_body_with_a_utf16_or_utf32_byte_order_mark_is_a_415_as_a_declared_utf16_charset_is(string path, string contentType, byte[] bom, string named)
    {
        // A UTF-16 CSV (Excel's "Unicode Text") was decoded by its byte order mark, though a declared charset=utf-16 is refused.
        var text = path == "/predict" ? Csv(2) : "{\"records\":[]}";
        var encoding = named.StartsWith("UTF-32", StringComparison.Ordinal) ? (Encoding)new UTF32Encoding(false, false) : new UnicodeEncoding(bigEndian: named.Contains("big", StringComparison.Ordinal), byteOrderMark: false);
        using var response = await Client().PostAsync(path, Raw([.. bom, .. encoding.GetBytes(text)], contentType));
        var detail = Detail(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType));
        Assert.Contains($"{named} byte order mark", detail);
        Assert.Contains("send UTF-8", detail);
    }

    [Theory]
    [InlineData("/predict", "application/json", "JSON records go to POST /predict/json.")]
    [InlineData("/predict", "application/vnd.api+json; charset=utf-8", "JSON records go to POST /predict/json.")]
    [InlineData("/predict/json", "text/csv", "A CSV upload goes to POST /predict.")]
    [InlineData("/predict/json", "multipart/form-data; boundary=x", "A CSV upload goes to POST /predict.")]
    public async Task A_body_sent_to_the_other_predict_endpoint_is_a_415_saying_where_it_goes(string path, string contentType, string hint)
    {
        // The refusal said what this endpoint takes, not that the body was meant for its sibling.
        using var response = await Client().PostAsync(path, Raw("{}", contentType));
        Assert.EndsWith(hint, Detail(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType)));
    }

    [Theory]
    [InlineData("/predict", "text/csv")]
    [InlineData("/predict/json", "application/json")]
    public async Task A_transfer_coding_other_than_chunked_is_a_415_naming_it_not_compressed_bytes_read_as_input(string path, string contentType)
    {
        // Kestrel removes the chunked framing only: the gzip bytes reached the endpoint as the body.
        var address = Client().BaseAddress!;
        using var gzipped = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(gzipped, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(path == "/predict" ? Csv(2) : "{\"records\":[]}"));
        }

        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", address.Port);
        var stream = socket.GetStream();
        var body = gzipped.ToArray();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n{body.Length:x}\r\n"));
        await stream.WriteAsync(body);
        await stream.WriteAsync("\r\n0\r\n\r\n"u8.ToArray());
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // against a hang only
        var answer = await ReadUntilAsync(stream, "}", "The server closed the connection without an answer", wait.Token);
        Assert.StartsWith("HTTP/1.1 415", answer);
        Assert.Contains("Transfer-Encoding 'gzip, chunked' is not supported", answer);
    }

    [Theory]
    [InlineData("text/html;q=0, application/json", "application/json")]
    [InlineData("application/json;q=0.1, text/csv;q=0.9", "text/csv")]
    [InlineData("application/*", "application/json")]
    [InlineData("*/*, text/csv", "text/csv")]
    [InlineData("*/*", "text/html")]
    [InlineData("image/png", "text/html")]
    [InlineData("text/*;q=0.5, application/json;q=0.4", "text/html")]
    [InlineData("text/html;q=0, text/*", "text/csv")]
    [InlineData("application/json, */*;q=0", "application/json")]
    [InlineData("text/*;q=0, text/csv", "text/csv")]
    [InlineData("application/*;q=0, application/json", "application/json")]
    public async Task Accept_is_negotiated_by_quality_and_specificity(string accept, string expected)
    {
        using var response = await PostCsvAsync(Client(), accept);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("application/json;q=-1, text/csv", "application/json;q=-1")]
    [InlineData("text/csv;q=5", "text/csv;q=5")]
    [InlineData("text/csv, application/json; Q=1.5", "application/json;Q=1.5")]
    [InlineData("text/csv;q=0.5000", "text/csv;q=0.5000")]
    [InlineData("text/csv;q=.5", "text/csv;q=.5")]
    [InlineData("text/csv;q=high", "text/csv;q=high")]
    [InlineData("text/csv;q=", "text/csv;q=")]
    public async Task An_accept_whose_q_is_not_a_quality_value_is_a_400_naming_the_range(string accept, string named)
    {
        // Read as q=1 before: "application/json;q=-1" (meant as "never JSON") got JSON.
        using var response = await PostCsvAsync(Client(), accept);
        var detail = Detail(await ProblemAsync(response, HttpStatusCode.BadRequest));
        Assert.Contains($"'{named}'", detail.Replace("; ", ";", StringComparison.Ordinal)); // HttpClient writes "a; q=1"
        Assert.Contains("from 0 (never) to 1", detail);
    }

    [Theory]
    [InlineData("text/csv;q=1.000, application/json;q=0.999", "text/csv")]
    [InlineData("application/json;q=1., text/csv;q=0.", "application/json")]
    [InlineData("text/csv; charset=utf-8; q=0.7, application/json;q=0.3", "text/csv")]
    public async Task Every_spelling_of_a_quality_value_is_accepted(string accept, string expected)
    {
        using var response = await PostCsvAsync(Client(), accept);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_accept_that_rules_out_every_format_is_a_406()
    {
        using var response = await PostCsvAsync(Client(), "text/*;q=0, application/json;q=0");
        Assert.Contains("rules out every format", Detail(await ProblemAsync(response, HttpStatusCode.NotAcceptable)));
    }

    private static string JsonBody() =>
        $"{{\"records\": [{{{string.Join(',', Lines[0].Split(',').SkipLast(1).Zip(Lines[1].Split(',')).Select(p => $"\"{p.First}\": {p.Second}"))}}}]}}";

    [Theory]
    [InlineData("application/json;q=0", HttpStatusCode.NotAcceptable)]
    [InlineData("text/csv, */*;q=0", HttpStatusCode.NotAcceptable)]
    [InlineData("application/*;q=0, text/html", HttpStatusCode.NotAcceptable)]
    [InlineData("application/json;q=0.5, */*;q=0", HttpStatusCode.OK)]
    [InlineData("text/html;q=0, */*", HttpStatusCode.OK)]
    [InlineData("text/csv", HttpStatusCode.OK)] // names nothing it answers in: JSON, as /predict answers HTML to image/png
    [InlineData("*/*", HttpStatusCode.OK)]
    [InlineData("application/json;q=5", HttpStatusCode.BadRequest)]
    [InlineData("text/csv;q=high", HttpStatusCode.BadRequest)]
    public async Task Predict_json_reads_accept_as_predict_does_a_406_when_it_rules_out_json(string accept, HttpStatusCode expected)
    {
        // It answered JSON whatever Accept said: "application/json;q=0" (never JSON) got a 200 in JSON.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict/json") { Content = new StringContent(JsonBody(), Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Client().SendAsync(request);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return;
        }

        var detail = Detail(await ProblemAsync(response, expected));
        Assert.Contains(expected == HttpStatusCode.NotAcceptable ? "rules out every format this endpoint answers in: application/json" : "is not a quality value", detail);
        Assert.Equal(model.Version, response.Headers.GetValues("X-Model-Version").Single());
    }

    [Theory]
    [InlineData("/predict/json", "application/json; charset=utf-8; charset=iso-8859-1", "of the request names more than one charset ('utf-8' and 'iso-8859-1')")]
    [InlineData("/predict", "text/csv; charset=utf-8; charset=iso-8859-1", "of the request names more than one charset ('utf-8' and 'iso-8859-1')")]
    [InlineData("/predict", "text/csv; charset=iso-8859-1; charset=utf-8", "of the request names more than one charset ('iso-8859-1' and 'utf-8')")]
    [InlineData("/predict/json", "application/json; charset=utf-8; charset=\"UTF-8\"", null)] // the same one twice
    public async Task A_content_type_with_two_charsets_that_differ_is_a_415_not_read_by_the_first(string path, string contentType, string? named)
    {
        // The first charset won: "charset=utf-8; charset=iso-8859-1" was read as UTF-8 (and the other order refused).
        using var response = await Client().PostAsync(path + (path == "/predict" ? "?echo=false" : ""), Raw(path == "/predict" ? Csv(2) : JsonBody(), contentType));
        if (named is null)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }

        Assert.Contains(named, Detail(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType)));
    }

    [Theory]
    [InlineData("/predict", "text/csv; charset=iso-8859-1", "text/csv; charset=utf-8")]
    [InlineData("/predict", "text/csv; charset=utf-8", "text/csv; charset=iso-8859-1")]
    [InlineData("/predict", "text/csv", "application/json")] // refused by routing before the endpoint runs
    [InlineData("/predict/json", "application/json; charset=iso-8859-1", "application/json; charset=utf-8")]
    public async Task Two_content_type_headers_are_a_415_naming_both_not_read_by_one(string path, string first, string second)
    {
        // Read joined, the declared Latin-1 was dropped without a word and the body read as UTF-8 (a 200); two media
        // types were refused as one odd type, 'text/csv,application/json'.
        var body = Encoding.UTF8.GetBytes(path == "/predict" ? Csv(2) : JsonBody());
        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", Client().BaseAddress!.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: {first}\r\nContent-Type: {second}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        await stream.WriteAsync(body);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // against a hang only
        var answer = await ReadUntilAsync(stream, "}", "The server closed the connection without an answer", wait.Token);
        Assert.StartsWith("HTTP/1.1 415", answer);
        Assert.Contains($"The request has 2 Content-Type headers ('{first}', '{second}'): send one", answer);
    }

    [Fact]
    public async Task A_multipart_file_part_with_two_charsets_that_differ_is_a_415()
    {
        var part = new ByteArrayContent(Encoding.UTF8.GetBytes(Csv(2)));
        part.Headers.TryAddWithoutValidation("Content-Type", "text/csv; charset=utf-8; charset=windows-1252");
        using var form = new MultipartFormDataContent { { part, "file", "a.csv" } };
        using var response = await Client().PostAsync("/predict", form);
        Assert.Contains("of the uploaded file names more than one charset ('utf-8' and 'windows-1252')", Detail(await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType)));
    }

    [Theory]
    [InlineData("?echo=no")]
    [InlineData("?echo=0")]
    [InlineData("?echo=false&echo=false")]
    [InlineData("?echo=")]
    [InlineData("?echo=false%00")] // read as false: bool.TryParse drops trailing NULs
    public async Task An_echo_value_other_than_true_or_false_is_a_400(string query)
    {
        using var response = await PostCsvAsync(Client(), "application/json", query);
        Assert.Contains("'false'", Detail(await ProblemAsync(response, HttpStatusCode.BadRequest)));
        Assert.Equal(model.Version, response.Headers.GetValues("X-Model-Version").Single()); // refusals name the model too
    }

    [Fact]
    public async Task A_misspelt_query_option_is_a_400_naming_it_and_the_options_in_any_case_are_read()
    {
        var client = Client();
        // It was ignored: the caller got verdicts without the explanations asked for.
        using var csv = await PostCsvAsync(client, "application/json", "?explian=3");
        Assert.Equal("Unknown query option 'explian' on POST /predict: the options are 'explain', 'echo'.", Detail(await ProblemAsync(csv, HttpStatusCode.BadRequest)));

        var record = string.Join(',', Lines[0].Split(',').SkipLast(1).Zip(Lines[1].Split(',')).Select(p => $"\"{p.First}\": {p.Second}"));
        using var json = await client.PostAsync("/predict/json?explain=2&echo=false", new StringContent($"{{\"records\": [{{{record}}}]}}", Encoding.UTF8, "application/json"));
        Assert.Equal("Unknown query option 'echo' on POST /predict/json: the options are 'explain'.", Detail(await ProblemAsync(json, HttpStatusCode.BadRequest)));

        using var mixedCase = await PostCsvAsync(client, "application/json", "?Explain=2&ECHO=false");
        Assert.Equal(HttpStatusCode.OK, mixedCase.StatusCode);
        var first = JsonDocument.Parse(await mixedCase.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0];
        Assert.Equal(2, first.GetProperty("explanation").GetProperty("features").GetArrayLength());
        Assert.False(first.TryGetProperty("values", out _));
    }

    [Fact]
    public async Task A_label_column_is_never_read_when_scoring_whatever_it_holds()
    {
        var client = Client();
        var header = Lines[0];
        var rows = Lines.Skip(1).Take(3).ToArray();

        async Task<double[]> ProbabilitiesAsync(string csv)
        {
            using var response = await client.PostAsync("/predict?echo=false", Raw(csv, "text/csv"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            return [.. JsonDocument.Parse(text).RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("phishing_probability").GetDouble())];
        }

        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var expected = await ProbabilitiesAsync(string.Join('\n', rows.Prepend(header)));
        string WithLabels(string name, params string[] labels) =>
            string.Join('\n', rows.Select((r, i) => r[..r.LastIndexOf(',')] + "," + labels[i]).Prepend(header[..header.LastIndexOf(',')] + "," + name));
        Assert.Equal(expected, await ProbabilitiesAsync(WithLabels("Result", "", "na", "0")));
        Assert.Equal(expected, await ProbabilitiesAsync(WithLabels("label", "paypal-login.example", "<b>", "2")));
        // Two label-like columns (Result and class): one more extra column, not a clash, since neither is read.
        Assert.Equal(expected, await ProbabilitiesAsync(string.Join('\n', rows.Select(r => r + ",x").Prepend(header + ",class"))));
    }

    [Fact]
    public async Task Header_problems_are_located_on_line_1_with_the_column_and_field()
    {
        var client = Client();
        var csv = Lines[0] + ",SFH\n" + Lines[1] + ",1";
        using var response = await client.PostAsync("/predict", new MultipartFormDataContent { { new StringContent(csv), "file", "dup.csv" } });
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("dup.csv, line 1, column 32 (SFH): ", Detail(problem));
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray().ToArray());
        Assert.Equal("line 1", error.GetProperty("location").GetString());
        Assert.Equal(32, error.GetProperty("column").GetInt32());
        Assert.Equal("SFH", error.GetProperty("field").GetString());

        using var semicolons = await client.PostAsync("/predict", Raw("a;b;c\n1;2;3\n", "text/csv"));
        Assert.Equal("line 1", (await ProblemAsync(semicolons, HttpStatusCode.BadRequest)).GetProperty("errors")[0].GetProperty("location").GetString());
    }

    [Fact]
    public async Task Json_syntax_errors_are_placed_from_1_and_a_byte_order_mark_is_read_past()
    {
        var client = Client();
        using var bad = await client.PostAsync("/predict/json", Raw("{\"records\": [\n {\"a\":\n  x}]}", "application/json"));
        Assert.StartsWith("The body is not valid JSON: line 3, byte 3: ", Detail(await ProblemAsync(bad, HttpStatusCode.BadRequest)));

        // An empty body was "... Expected the input to start with a valid JSON token, when isFinalBlock is true."
        using var empty = await client.PostAsync("/predict/json", Raw("  \n", "application/json"));
        Assert.Equal("The body is not valid JSON: line 2, byte 1: there is no JSON value: the input is empty or only white space.", Detail(await ProblemAsync(empty, HttpStatusCode.BadRequest)));
        using var open = await client.PostAsync("/predict/json", Raw("{\"records\": [", "application/json"));
        Assert.DoesNotContain("isFinalBlock", Detail(await ProblemAsync(open, HttpStatusCode.BadRequest)));

        var record = "{" + string.Join(',', Lines[0].Split(',')[..30].Select(f => $"\"{f}\":1")) + "}";
        using var bom = await client.PostAsync("/predict/json", Raw("\uFEFF{\"records\":[" + record + "]}", "application/json"));
        Assert.Equal(HttpStatusCode.OK, bom.StatusCode);
    }

    [Fact]
    public async Task A_json_body_with_records_twice_or_another_top_level_key_is_refused_rather_than_merged_or_dropped()
    {
        var client = Client();
        var record = "{" + string.Join(',', Lines[1].Split(',')[..30].Select((v, c) => $"\"{Lines[0].Split(',')[c]}\":{v}")) + "}";
        using var twice = await client.PostAsync("/predict/json", Raw($"{{\"records\":[{record}],\"records\":[{record}]}}", "application/json"));
        Assert.Contains("\"records\" is given more than once", Detail(await ProblemAsync(twice, HttpStatusCode.BadRequest)));

        using var misspelt = await client.PostAsync("/predict/json", Raw($"{{\"records\":[{record}],\"recrods\":[{record}]}}", "application/json"));
        Assert.Contains("unknown property 'recrods'", Detail(await ProblemAsync(misspelt, HttpStatusCode.BadRequest)));

        using var option = await client.PostAsync("/predict/json", Raw($"{{\"explain\":\"all\",\"records\":[{record}]}}", "application/json"));
        Assert.Contains("query string", Detail(await ProblemAsync(option, HttpStatusCode.BadRequest)));

        using var cased = await client.PostAsync("/predict/json", Raw($"{{\"Records\":[{record}]}}", "application/json"));
        Assert.Equal(HttpStatusCode.OK, cased.StatusCode); // one key, in any case, as before
    }

    [Fact]
    public async Task Get_train_before_any_job_is_json_null_not_an_empty_body()
    {
        var client = Client(); // a model is in place, so no first training run was queued
        using var latest = await client.GetAsync("/train");
        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
        Assert.Equal("application/json", latest.Content.Headers.ContentType?.MediaType);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(await latest.Content.ReadAsStringAsync()).RootElement.ValueKind);

        using var unknown = await client.GetAsync("/train/20260101_000000_abcdef");
        Assert.Contains("jobs are kept in memory", Detail(await ProblemAsync(unknown, HttpStatusCode.NotFound)));
        using var longId = await client.GetAsync("/train/" + new string('a', 5000));
        Assert.StartsWith($"No training job '{new string('a', 40)}…' on this replica", Detail(await ProblemAsync(longId, HttpStatusCode.NotFound)));
    }

    [Fact]
    public async Task Head_answers_for_every_get_endpoint_with_the_get_headers()
    {
        var client = Client();
        foreach (var path in new[] { "/", "/model", "/train", "/health/live" })
        {
            using var get = await client.GetAsync(path);
            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.True(head.StatusCode == get.StatusCode, $"HEAD {path}: {head.StatusCode}, GET: {get.StatusCode}");
            Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        using var post = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/predict"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task Routing_refusals_are_problem_json_whatever_the_client_accepts()
    {
        // A browser's Accept (text/html) got "Status Code: 404; Not Found" as text/plain.
        var client = Client();
        foreach (var (method, path, status) in new[] { (HttpMethod.Get, "/nope", HttpStatusCode.NotFound), (HttpMethod.Delete, "/model", HttpStatusCode.MethodNotAllowed) })
        {
            foreach (var accept in new[] { "text/html", "text/csv", "application/json" })
            {
                using var request = new HttpRequestMessage(method, path) { Headers = { { "Accept", accept } } };
                using var response = await client.SendAsync(request);
                Assert.Equal(status, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
                Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()));
                Assert.StartsWith("https://tools.ietf.org/html/rfc9110#section-15.5.", problem.RootElement.GetProperty("type").GetString());
                Assert.Equal(JsonValueKind.String, problem.RootElement.GetProperty("trace_id").ValueKind); // as the built-in writer names it
                if (status == HttpStatusCode.MethodNotAllowed)
                {
                    Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow); // HEAD is answered too
                }
            }
        }
    }

    [Fact]
    public async Task Routing_refusals_say_what_was_asked_and_what_there_is()
    {
        // They came with a title only: "Not Found" for a misspelt path, "Method Not Allowed" for a wrong method.
        var client = Client();
        var longPath = "/" + new string('p', 5000);
        foreach (var (method, path, status, expected) in new[]
        {
            (HttpMethod.Get, "/predictions", HttpStatusCode.NotFound, "There is no endpoint at '/predictions'."),
            (HttpMethod.Get, longPath, HttpStatusCode.NotFound, $"There is no endpoint at '/{new string('p', 99)}…'."),
            (HttpMethod.Delete, "/model", HttpStatusCode.MethodNotAllowed, "DELETE is not allowed on '/model', which answers GET, HEAD."),
            (HttpMethod.Options, "/predict/json", HttpStatusCode.MethodNotAllowed, "OPTIONS is not allowed on '/predict/json', which answers POST."),
            (HttpMethod.Put, "/train", HttpStatusCode.MethodNotAllowed, "PUT is not allowed on '/train', which answers GET, POST, HEAD."),
        })
        {
            using var request = new HttpRequestMessage(method, path);
            using var response = await client.SendAsync(request);
            var detail = Detail(await ProblemAsync(response, status));
            Assert.StartsWith(expected, detail);
            Assert.Contains("POST /predict/json", detail); // what there is
            Assert.Contains("/swagger", detail);
        }
    }

    [Fact]
    public async Task Every_operation_of_the_openapi_document_has_an_id_and_a_summary()
    {
        // The health probes, added to the document by hand, had neither id (client generators name methods after it).
        using var json = JsonDocument.Parse(await Client().GetStringAsync("/swagger/v1/swagger.json"));
        var ids = new List<string>();
        foreach (var path in json.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.True(operation.Value.TryGetProperty("operationId", out var id) && id.GetString() is { Length: > 0 }, $"{operation.Name} {path.Name} has no operationId");
                Assert.True(operation.Value.TryGetProperty("summary", out var summary) && summary.GetString() is { Length: > 0 }, $"{operation.Name} {path.Name} has no summary");
                ids.Add(id.GetString()!);
            }
        }

        Assert.Contains("Readiness", ids);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task The_openapi_document_lists_every_predict_answer_and_query_option()
    {
        using var response = await Client().GetAsync("/swagger/v1/swagger.json");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = json.RootElement.GetProperty("paths");
        var csv = paths.GetProperty("/predict").GetProperty("post");
        var content = csv.GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal(["application/json", "text/html", "text/csv"], content.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.EndsWith("/PredictionResponse", content.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal(["explain", "echo"], csv.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString() ?? "").ToArray());
        Assert.Equal(["explain"], paths.GetProperty("/predict/json").GetProperty("post").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString() ?? "").ToArray());
        Assert.True(paths.GetProperty("/train/{id}").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _));
    }

    [Theory]
    [InlineData("/predict", "text/csv", "text/html", "text/html")]
    [InlineData("/predict", "text/csv", "*/*", "application/problem+json")]
    [InlineData("/predict/json", "application/json", "application/json", "application/problem+json")]
    [InlineData("/train", "application/json", "application/json", "application/problem+json")]
    public async Task A_body_that_arrives_too_slowly_gets_a_408_that_the_openapi_document_lists(string path, string contentType, string accept, string answered)
    {
        // Kestrel's minimum data rate stops a body that trickles in, and the endpoints answer 408 ProblemDetails (a page
        // for a browser): a real answer that the OpenAPI document did not list.
        var client = Client();
        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", client.BaseAddress!.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\nAccept: {accept}\r\nContent-Length: 1000\r\n\r\nh"));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // against a hang only: the rate's grace is 5 s
        var head = await ReadUntilAsync(stream, "\r\n\r\n", "The server closed the connection without an answer", wait.Token);
        Assert.StartsWith("HTTP/1.1 408", head);
        Assert.Contains($"Content-Type: {answered}", head);

        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var documented = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("responses");
        Assert.True(documented.TryGetProperty("408", out var timeout), $"{path} does not list 408: {string.Join(", ", documented.EnumerateObject().Select(p => p.Name))}");
        Assert.True(timeout.GetProperty("content").TryGetProperty(answered, out _), timeout.GetRawText());
    }

    [Fact]
    public async Task A_train_body_that_arrives_too_slowly_is_a_408_saying_so_and_logged_as_one()
    {
        // The exception handler answered it: a bare 408 for the client, "responded 500" and two stack traces in the log.
        using var logs = new TempDirectory();
        using var factory = model.CreateFactory(new Dictionary<string, string?> { ["Logging:Directory"] = logs.Path, ["Serilog:MinimumLevel:Default"] = "Information" });
        factory.UseLoopbackKestrel();
        factory.StartServer();
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync("127.0.0.1", factory.CreateClient().BaseAddress!.Port);
            var stream = socket.GetStream();
            await stream.WriteAsync("POST /train HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"u8.ToArray());
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // against a hang only: the rate's grace is 5 s
            var answer = await ReadUntilAsync(stream, "}", "The server closed the connection without an answer", wait.Token);
            Assert.StartsWith("HTTP/1.1 408", answer);
            Assert.Contains("\"detail\":\"Reading the request body timed out", answer);
        }

        var text = "";
        for (var i = 0; i < 300 && !text.Contains("POST /train responded", StringComparison.Ordinal); i++) // the file sink writes in the background
        {
            await Task.Delay(100);
            text = ReadLogs(logs.Path);
        }

        Assert.Contains("POST /train responded 408", text);
        Assert.DoesNotContain("responded 500", text);
        Assert.DoesNotContain("   at ", text);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_located_problems_of_a_400()
    {
        // A 400 for bad input lists every problem in 'errors' (line, column, field, message); the document gave the plain
        // ProblemDetails schema, so clients generated from it had no such member.
        var client = Client();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var root = document.RootElement;
        using var csv = await client.PostAsync("/predict", Raw(Lines[0] + "\n" + Lines[1].Replace("-1", "7") + "\n", "text/csv"));
        using var json = await client.PostAsync("/predict/json", Raw("{\"records\":[{\"having_IP_Address\":5}]}", "application/json"));
        foreach (var (path, response) in new[] { ("/predict", csv), ("/predict/json", json) })
        {
            var answer = await ProblemAsync(response, HttpStatusCode.BadRequest);
            var schema = root.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("responses").GetProperty("400")
                .GetProperty("content").GetProperty("application/problem+json").GetProperty("schema");
            var declared = Properties(schema, root);
            Assert.True(declared.TryGetValue("errors", out var errors), $"{path}: the 400 schema has no 'errors': {schema}");
            var item = Properties(errors.GetProperty("items"), root);
            var problem = answer.GetProperty("errors")[0];
            Assert.All(problem.EnumerateObject(), member => Assert.True(item.ContainsKey(member.Name), $"{path}: '{member.Name}' of a problem is not documented"));
            Assert.Equal(problem.EnumerateObject().Count(), item.Count);
        }
    }

    // A schema's properties, through $ref and allOf.
    private static Dictionary<string, JsonElement> Properties(JsonElement schema, JsonElement document)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            return Properties(document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]), document);
        }

        var properties = schema.TryGetProperty("properties", out var own) ? own.EnumerateObject().ToDictionary(p => p.Name, p => p.Value) : [];
        foreach (var part in schema.TryGetProperty("allOf", out var all) ? all.EnumerateArray() : default)
        {
            foreach (var (name, value) in Properties(part, document))
            {
                properties[name] = value;
            }
        }

        return properties;
    }

    [Fact]
    public async Task The_openapi_example_for_predict_json_is_a_request_the_service_accepts()
    {
        // Swagger UI's "Try it out" filled the body from the schema alone, {"records":[{"additionalProp1":"string",…}]}:
        // a 400 for 33 problems on the first try.
        var client = Client();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var example = document.RootElement.GetProperty("paths").GetProperty("/predict/json").GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal(30, example.GetProperty("records")[0].EnumerateObject().Count());
        using var response = await client.PostAsync("/predict/json", new StringContent(example.GetRawText(), Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, answer.RootElement.GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public async Task Json_explanations_keep_to_the_scoring_budget()
    {
        using var factory = model.CreateFactory(new Dictionary<string, string?> { ["Api:ScoringTimeoutSeconds"] = "0.001" });
        factory.UseLoopbackKestrel();
        factory.StartServer();
        var features = Lines[0].Split(',')[..30];
        // 1,000 distinct records: scoring checks the budget once per 1,024 records, so it never does here; explaining
        // them takes far longer than 1 ms, and the budget runs out there.
        var records = Enumerable.Range(0, 1000).Select(i => "{" + string.Join(',', features.Select((f, c) => $"\"{f}\":{((i >> (c % 12)) & 1) * 2 - 1}")) + "}");
        using var response = await factory.CreateClient().PostAsync("/predict/json?explain=all", Raw("{\"records\":[" + string.Join(',', records) + "]}", "application/json"));
        Assert.Contains("took longer than the limit of 0.001 s", Detail(await ProblemAsync(response, HttpStatusCode.ServiceUnavailable)));
    }

    [Fact]
    public async Task A_json_client_that_leaves_mid_body_is_logged_once_without_a_warning()
    {
        using var logs = new TempDirectory();
        using var factory = model.CreateFactory(new Dictionary<string, string?>
        {
            ["Logging:Directory"] = logs.Path, ["Serilog:MinimumLevel:Default"] = "Information",
        });
        factory.UseLoopbackKestrel();
        factory.StartServer();
        var address = factory.CreateClient().BaseAddress!;
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync("127.0.0.1", address.Port);
            var stream = socket.GetStream();
            await ExpectContinueAsync(stream, "/predict/json", "application/json", 100_000);

            await stream.WriteAsync("{\"records\":"u8.ToArray());
            await stream.FlushAsync();
            await Task.Delay(300);
        } // closed politely (FIN), body unfinished

        var text = "";
        for (var i = 0; i < 300 && !text.Contains("POST /predict/json responded 499", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
            text = ReadLogs(logs.Path);
        }

        await Task.Delay(1000); // Kestrel's warning, when there was one, came just after the request's line
        text = ReadLogs(logs.Path);
        Assert.Single(text.Split('\n'), l => l.Contains("/predict/json", StringComparison.Ordinal));
        Assert.DoesNotContain("ended abnormally", text);
        Assert.DoesNotContain("   at ", text);
    }
}
