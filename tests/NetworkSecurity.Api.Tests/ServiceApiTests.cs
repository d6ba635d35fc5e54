using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Tests;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Tests;

[Collection(TrainedModelCollection.Name)]
public sealed class ServiceApiTests(TrainedModelFixture model)
{
    [Fact]
    public void The_home_page_names_a_running_jobs_state_and_stage_as_the_api_and_its_script_do()
    {
        // Rendered "Running — Training", then "running — training" once the script polled; the script only followed a
        // job whose data-state it found in its own spelling.
        var now = DateTimeOffset.UtcNow;
        var job = new NetworkSecurity.Api.Training.TrainingJobStatus("0123456789abcdef0123456789abcdef", NetworkSecurity.Api.Training.TrainingJobState.Running, "requested through POST /train", now, now, null, NetworkSecurity.Pipeline.PipelineStage.Training, 0.5, null, null);
        var page = NetworkSecurity.Api.Endpoints.HomePage.Render(null, job, apiKeyRequired: false);
        Assert.Contains("data-state=\"running\">Last run: <b>running</b> — training <progress", page);
        var follows = System.Text.RegularExpressions.Regex.Match(page, @"current\.dataset\.state === '(\w+)' \|\| current\.dataset\.state === '(\w+)'");
        Assert.Equal(("queued", "running"), (follows.Groups[1].Value, follows.Groups[2].Value));
    }

    [Fact]
    public void The_home_page_says_when_a_promoted_models_publication_failed_and_when_the_lease_was_lost()
    {
        // It said "promoted" and nothing else: the other replicas never got the model, and another replica may have
        // trained at the same time, as GET /train said and the page did not.
        var now = DateTimeOffset.UtcNow;
        var outcome = new NetworkSecurity.Api.Training.TrainingJobOutcome("20260101_000000", "gradient_boosting", 0.97, 0.96, 0.98, 0.97, 0.99, true, "20260101_000000", null, "tracked", "upload failed", 3);
        var job = new NetworkSecurity.Api.Training.TrainingJobStatus("0123456789abcdef0123456789abcdef", NetworkSecurity.Api.Training.TrainingJobState.Succeeded, "requested through POST /train", now, now, now, NetworkSecurity.Pipeline.PipelineStage.Done, 1, outcome, null,
            Publication: new NetworkSecurity.Api.Replication.PublicationStatus(NetworkSecurity.Api.Replication.PublicationState.Failed, 3, "gave up after 600 s: <bucket> refused", null),
            LeaseWarning: "Lost the training lease at 2026-01-01 00:00:00Z");

        var page = NetworkSecurity.Api.Endpoints.HomePage.Render(null, job, apiKeyRequired: false);

        Assert.Contains("promoted; publication: <span data-publication=\"failed\" class=\"error\">failed (gave up after 600 s: &lt;bucket&gt; refused)</span>", page);
        Assert.Contains("<span class=\"error\" id=\"lease-warning\">Lost the training lease at 2026-01-01 00:00:00Z</span>", page);
        Assert.Contains("s.lease_warning", page); // the script, which redraws the job as it polls, says both too
        Assert.Contains("s.publication.state", page);
        var localOnly = NetworkSecurity.Api.Endpoints.HomePage.Render(null, job with { Publication = new(NetworkSecurity.Api.Replication.PublicationState.LocalOnly, 0, "no object storage", null), LeaseWarning = null }, apiKeyRequired: false);
        Assert.DoesNotContain("publication: <span", localOnly); // nothing to publish to: nothing to say
    }

    [Fact]
    public async Task Home_page_shows_the_model_card_with_confusion_matrix_and_roc_curve()
    {
        using var factory = model.CreateFactory();
        var html = await factory.CreateClient().GetStringAsync("/");
        Assert.Contains($"<b id=\"model-version\">{model.Version}</b>", html);
        Assert.Contains("<table class=\"metrics\" id=\"confusion\">", html);
        Assert.Contains("<svg id=\"roc\"", html);
        Assert.Contains("<polyline", html);
        Assert.Contains("formaction=\"/predict?explain=3\"", html); // the page can ask for the why column
        Assert.Contains("id=\"train\"", html);
        Assert.Contains("<link rel=\"icon\" href=\"data:,\">", html); // no /favicon.ico request (a 404) at each load
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal)); // nothing fetched from elsewhere
    }

    [Fact]
    public async Task With_object_storage_unreachable_train_answers_503_with_retry_after_and_the_live_model_keeps_serving()
    {
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now: connections are refused
        using var factory = model.CreateFactory(new Dictionary<string, string?>
        {
            ["S3_BUCKET"] = "models", ["S3_ENDPOINT_URL"] = $"http://127.0.0.1:{port}", ["S3_FORCE_PATH_STYLE"] = "true",
            ["AWS_ACCESS_KEY_ID"] = "k", ["AWS_SECRET_ACCESS_KEY"] = "s",
        });
        var client = factory.CreateClient();
        using var train = await client.PostAsync("/train", null);
        var body = await train.Content.ReadAsStringAsync();
        Assert.True(train.StatusCode == HttpStatusCode.ServiceUnavailable, body);
        Assert.NotNull(train.Headers.RetryAfter);
        Assert.Contains("cannot be reached", body);
        Assert.Contains("the live model keeps serving", body);
        var record = "{" + string.Join(',', File.ReadLines(TestPaths.DataFile).First().Split(',')[..30].Select(f => $"\"{f}\":1")) + "}";
        using var predict = await client.PostAsync("/predict/json", new StringContent("{\"records\":[" + record + "]}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);

        // A job this replica does not know may be another's: unknown until the shared store answers, so not a 404.
        using var job = await client.GetAsync($"/train/{Guid.NewGuid():N}");
        var problem = await job.Content.ReadAsStringAsync();
        Assert.True(job.StatusCode == HttpStatusCode.ServiceUnavailable, problem);
        Assert.NotNull(job.Headers.RetryAfter);
        Assert.Contains("s3://models/jobs/", problem);
        // The most recent job may be another replica's: unknown too until the store answers.
        using var latest = await client.GetAsync("/train");
        var latestProblem = await latest.Content.ReadAsStringAsync();
        Assert.True(latest.StatusCode == HttpStatusCode.ServiceUnavailable, latestProblem);
        Assert.NotNull(latest.Headers.RetryAfter);
        Assert.Contains("Latest training job unavailable", latestProblem);
        Assert.Contains("s3://models/jobs/", latestProblem);
        // Something that is not a job id is never looked up: a 404 at once.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/train/not-a-job")).StatusCode);
        // An upper-cased id is not one either, and the 404 says so rather than that the store has no such job.
        using var upper = await client.GetAsync($"/train/{Guid.NewGuid():N}".ToUpperInvariant().Replace("/TRAIN/", "/train/", StringComparison.Ordinal));
        var notFound = await upper.Content.ReadAsStringAsync();
        Assert.True(upper.StatusCode == HttpStatusCode.NotFound, notFound);
        Assert.Contains("it is not a job id (32 lower-case hexadecimal digits", notFound);
        Assert.Contains("s3://models/jobs/, where every replica records its jobs, was not asked", notFound);
    }

    [Fact]
    public async Task Swagger_describes_every_operation_and_parameter()
    {
        // GET / had a summary and no description, and /train/{id}'s id said nothing of what a job id is: Swagger UI
        // showed an empty box under each.
        using var factory = model.CreateFactory();
        using var doc = JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));
        var bare = new List<string>();
        foreach (var path in doc.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var where = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                if (!operation.Value.TryGetProperty("description", out var description) || string.IsNullOrWhiteSpace(description.GetString()))
                {
                    bare.Add(where);
                }

                foreach (var parameter in operation.Value.TryGetProperty("parameters", out var parameters) ? parameters.EnumerateArray() : default)
                {
                    if (!parameter.TryGetProperty("description", out var text) || string.IsNullOrWhiteSpace(text.GetString()))
                    {
                        bare.Add($"{where} parameter {parameter.GetProperty("name").GetString()}");
                    }
                }
            }
        }

        Assert.Empty(bare);
    }

    [Fact]
    public async Task Swagger_documents_every_endpoint()
    {
        using var factory = model.CreateFactory();
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/", "/predict", "/predict/json", "/train", "/train/{id}", "/model", "/health/live", "/health/ready" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not documented");
        }

        // Swagger UI's "Try it out" needs the upload as a form with a 'file' field (a bare binary body sent an empty form)
        // and the API key as a scheme it can send.
        var form = paths.GetProperty("/predict").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal("binary", form.GetProperty("properties").GetProperty("file").GetProperty("format").GetString());
        Assert.Equal(["file"], form.GetProperty("required").EnumerateArray().Select(r => r.GetString() ?? "").ToArray());
        var scheme = doc.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal(("apiKey", "header", "X-Api-Key"), (scheme.GetProperty("type").GetString(), scheme.GetProperty("in").GetString(), scheme.GetProperty("name").GetString()));
        Assert.True(paths.GetProperty("/train").GetProperty("post").GetProperty("security")[0].TryGetProperty("ApiKey", out _));

        Assert.Equal("PredictCsv", paths.GetProperty("/predict").GetProperty("post").GetProperty("operationId").GetString());

        // What the answers really are: GET /model's card has 'serving' (allowed by its schema), GET /train may be null,
        // /health/ready is JSON, and the headers clients rely on are declared.
        var served = doc.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("ServedModel");
        Assert.True(served.GetProperty("properties").TryGetProperty("serving", out _));
        Assert.True(served.GetProperty("properties").TryGetProperty("version", out _));
        Assert.True(OpenApiNulls.Allows(served.GetProperty("properties").GetProperty("test"), doc.RootElement)); // null without a hold-out
        using (var card = JsonDocument.Parse(await client.GetStringAsync("/model")))
        {
            var declared = served.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToHashSet();
            Assert.All(card.RootElement.EnumerateObject(), member => Assert.Contains(member.Name, declared));
        }

        Assert.True(OpenApiNulls.Allows(paths.GetProperty("/train").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema"), doc.RootElement));
        Assert.True(paths.GetProperty("/health/ready").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(paths.GetProperty("/health/live").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/plain", out _));
        // Liveness has no check that could fail: the document listed a 503 it never answers. Readiness does answer one.
        Assert.Equal(["200"], paths.GetProperty("/health/live").GetProperty("get").GetProperty("responses").EnumerateObject().Select(r => r.Name).ToArray());
        Assert.Equal(["200", "503"], paths.GetProperty("/health/ready").GetProperty("get").GetProperty("responses").EnumerateObject().Select(r => r.Name).ToArray());
        string[] Headers(string path, string method, string status) =>
            [.. paths.GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status).GetProperty("headers").EnumerateObject().Select(h => h.Name)];
        Assert.Equal(["X-Model-Version", "X-Empty-Features"], Headers("/predict", "post", "200"));
        Assert.Equal(["X-Model-Version", "Retry-After"], Headers("/predict/json", "post", "503"));
        Assert.Equal(["X-Model-Version", "X-Model-Origin"], Headers("/model", "get", "200"));
        Assert.Equal(["Location"], Headers("/train", "post", "202"));
        Assert.Equal(["WWW-Authenticate"], Headers("/train", "post", "401"));
        Assert.Equal(["Retry-After"], Headers("/train/{id}", "get", "503")); // the shared job store cannot be asked: answered with one
    }

    [Fact]
    public async Task With_mongodb_configured_ready_means_it_answers_a_ping()
    {
        // A MongoDB wire-protocol peer on 127.0.0.1 (no MongoDB server runs here): the driver's handshake and ping.
        var server = new NetworkSecurity.MongoDb.Tests.WireProtocolServer();
        using var factory = model.CreateFactory(new Dictionary<string, string?> { ["MONGODB_URL"] = server.ConnectionString + "/?serverSelectionTimeoutMS=1000" });
        var client = factory.CreateClient();
        // Asked again until it answers: the first check starts the driver cold, and its handshake has the URI's 1 s of
        // server selection, which a loaded machine can spend on compiling the driver's code (a probe is asked again too).
        var ready = await client.GetAsync("/health/ready");
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); ready.StatusCode != HttpStatusCode.OK && waited.Elapsed < TimeSpan.FromSeconds(30);)
        {
            ready.Dispose();
            await Task.Delay(200);
            ready = await client.GetAsync("/health/ready");
        }

        using (ready)
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Contains("MongoDB answers at", await ready.Content.ReadAsStringAsync());
        }

        await server.DisposeAsync(); // the database goes away: not ready, with why
        using var gone = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gone.StatusCode);
        Assert.Contains("MongoDB", await gone.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_probes_answer_get_and_head_only()
    {
        using var factory = model.CreateFactory();
        var client = factory.CreateClient();
        foreach (var path in new[] { "/health/live", "/health/ready" })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path))).StatusCode);
            foreach (var method in new[] { HttpMethod.Post, HttpMethod.Delete, HttpMethod.Put })
            {
                using var refused = await client.SendAsync(new HttpRequestMessage(method, path));
                Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
                Assert.Equal(["GET", "HEAD"], refused.Content.Headers.Allow);
            }
        }

        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal("application/json", ready.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Model_and_health_endpoints_report_the_loaded_model()
    {
        using var factory = model.CreateFactory();
        var client = factory.CreateClient();
        using var card = JsonDocument.Parse(await client.GetStringAsync("/model"));
        Assert.Equal(model.Version, card.RootElement.GetProperty("version").GetString());
        Assert.True(card.RootElement.GetProperty("test").GetProperty("legitimate").GetProperty("f1").GetDouble() > 0.95);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Every_null_of_a_model_answer_is_allowed_by_the_openapi_document()
    {
        // Without object storage 'serving.store_latest' is null, and so is 'importance' in a card saved before
        // explanations: the document gave both as bare references (no null allowed), so a validating client refused
        // every GET /model of a service without S3.
        using var factory = model.CreateFactory();
        var client = factory.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        using var card = JsonDocument.Parse(await client.GetStringAsync("/model"));
        var served = card.RootElement.Clone();
        var withoutImportance = JsonNode.Parse(served.GetRawText())!.AsObject();
        withoutImportance["importance"] = null; // as an older card has it
        withoutImportance["classes"] = null; // as a card of a build before the classes were recorded has it
        var nulls = new[] { ("ServedModel", JsonDocument.Parse(withoutImportance.ToJsonString()).RootElement), ("ServingInfo", served.GetProperty("serving")) }
            .SelectMany(answer => answer.Item2.EnumerateObject().Where(m => m.Value.ValueKind == JsonValueKind.Null).Select(m => (Schema: answer.Item1, m.Name)))
            .ToArray();
        Assert.Contains(("ServingInfo", "store_latest"), nulls);
        Assert.Contains(("ServedModel", "importance"), nulls);
        Assert.Contains(("ServedModel", "classes"), nulls);
        foreach (var (schema, name) in nulls)
        {
            var property = schemas.GetProperty(schema).GetProperty("properties").GetProperty(name);
            Assert.True(OpenApiNulls.Allows(property, document.RootElement), $"{schema}.{name} is null in GET /model, but its schema does not allow null: {property}");
        }
    }

    [Fact]
    public async Task Without_a_model_predict_answers_503_saying_whether_one_is_coming_and_ready_is_unhealthy()
    {
        using var dir = new TempDirectory();
        // Api:TrainOnStartup off. The whole default search (about 10 s, not gbdt's one fit, nor one grid entry, which
        // finished before a busy test host asked for readiness) so that the queued run below is surely still under way
        // when readiness and /predict are asked; the host's disposal stops it between fits.
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?> { ["Pipeline:Training:Mode"] = "search" });
        var client = factory.CreateClient();
        // Not training by itself and not asked to: nothing comes by waiting, so no Retry-After; the page says so too
        // (both said the first run was on its way).
        using (var idle = await client.PostAsync("/predict", new StringContent("a,b\n1,2\n", System.Text.Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, idle.StatusCode);
            Assert.Null(idle.Headers.RetryAfter);
            Assert.Contains("is not training one (Api:TrainOnStartup is off): POST /train", await idle.Content.ReadAsStringAsync());
        }

        Assert.Contains("does not train one by itself (Api:TrainOnStartup is off)", await client.GetStringAsync("/"));
        using (var notReady = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("none is being trained (Api:TrainOnStartup is off): POST /train", await notReady.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/model")).StatusCode);

        // Once a run is queued, the model is on its way: retry later; readiness names the run.
        using var accepted = await client.PostAsync("/train", null);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var jobId = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using (var awaited = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, awaited.StatusCode);
            Assert.Contains($"no model loaded yet: training job {jobId} is ", await awaited.Content.ReadAsStringAsync());
        }

        using var waiting = await client.PostAsync("/predict", new StringContent("a,b\n1,2\n", System.Text.Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, waiting.StatusCode);
        var body = await waiting.Content.ReadAsStringAsync();
        Assert.True(waiting.Headers.RetryAfter is not null, body); // the run (seconds) is still under way: one outcome only
        Assert.DoesNotContain("TrainOnStartup", body);
    }

    [Fact]
    public async Task Live_swap_under_concurrent_predictions_fails_no_request_and_each_answer_comes_from_one_model()
    {
        using var factory = model.CreateFactory();
        var client = factory.CreateClient();
        var live = factory.Services.GetRequiredService<LiveModel>();
        var original = live.Current!;
        var renamed = new ModelBundle(original.SchemaFingerprint, original.FeatureNames, original.Imputer, original.Classifier, original.Card with { Version = "swapped" });
        var record = File.ReadLines(TestPaths.DataFile).Take(2).ToArray();
        var header = record[0].Split(',');
        var body = new { records = new[] { header.Zip(record[1].Split(',')).Where(p => p.First != "Result").ToDictionary(p => p.First, p => int.Parse(p.Second, System.Globalization.CultureInfo.InvariantCulture)) } };

        using var stop = new CancellationTokenSource();
        var swapper = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                live.Swap(i % 2 == 0 ? renamed : original);
                await Task.Delay(1);
            }
        });
        // At least 400 requests from 8 clients, and on until both versions have answered: 400 requests can finish
        // between two swaps on a fast machine (the swapper waits at least 1 ms).
        var versions = new System.Collections.Concurrent.ConcurrentBag<string>();
        var swappedAnswers = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (_, ct) =>
        {
            while ((versions.Count < 400 || Volatile.Read(ref swappedAnswers) == 0 || Volatile.Read(ref swappedAnswers) == versions.Count) && DateTime.UtcNow < deadline)
            {
                using var response = await client.PostAsJsonAsync("/predict/json", body, ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                var inBody = json.RootElement.GetProperty("model_version").GetString()!;
                Assert.Equal(inBody, response.Headers.GetValues("X-Model-Version").Single());
                if (inBody == "swapped")
                {
                    Interlocked.Increment(ref swappedAnswers);
                }

                versions.Add(inBody);
            }
        });
        stop.Cancel();
        await swapper;

        Assert.True(versions.Count >= 400, $"{versions.Count} answers");
        Assert.All(versions, v => Assert.Contains(v, new[] { model.Version, "swapped" }));
        Assert.Equal(2, versions.Distinct().Count());
    }
}

public sealed class TrainingApiTests
{
    private static ApiFactory Create(TempDirectory dir, string? apiKey, int sampleRows = 1500, string keySetting = "Api:TrainApiKey") =>
        new(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = PipelineFactory.Sample(dir, sampleRows),
            [keySetting] = apiKey,
        });

    [Fact]
    public async Task The_api_key_is_read_from_configuration_under_its_variable_name()
    {
        // --NETWORKSECURITY_API_KEY=... on the command line is configuration, not the process environment: it was ignored,
        // and POST /train stayed open.
        using var dir = new TempDirectory();
        using var factory = Create(dir, "s3cret-key", keySetting: "NETWORKSECURITY_API_KEY");
        using var missing = await factory.CreateClient().PostAsync("/train", null);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode); // a padded key is refused at start: CommandLineTests
    }

    [Fact]
    public async Task Train_needs_the_api_key_when_one_is_configured()
    {
        using var dir = new TempDirectory();
        using var factory = Create(dir, "s3cret-key");
        var client = factory.CreateClient();
        using var missing = await client.PostAsync("/train", null);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", missing.Headers.WwwAuthenticate.ToString());
        Assert.Contains("\"API key required\"", await missing.Content.ReadAsStringAsync());
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/train") { Headers = { { "X-Api-Key", "guess" } } };
        using var refused = await client.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("\"Wrong API key\"", await refused.Content.ReadAsStringAsync());
        using var twice = new HttpRequestMessage(HttpMethod.Post, "/train");
        twice.Headers.Add("X-Api-Key", ["s3cret-key", "s3cret-key"]);
        using var repeated = await client.SendAsync(twice);
        Assert.Equal(HttpStatusCode.Unauthorized, repeated.StatusCode);
        Assert.Contains("The request has 2 X-Api-Key headers: send the server's API key in one", await repeated.Content.ReadAsStringAsync());
        using var right = new HttpRequestMessage(HttpMethod.Post, "/train") { Headers = { { "X-Api-Key", "s3cret-key" } } };
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(right)).StatusCode);
    }

    [Fact]
    public async Task Options_sent_to_post_train_are_refused_not_ignored()
    {
        // ?seed=7&mode=gbdt and a JSON body of options were answered 202, and the run used the configured settings.
        // Kestrel, not the in-memory server: how a body is framed (length, chunks) is what is judged.
        using var dir = new TempDirectory();
        using var factory = Create(dir, "s3cret-key");
        factory.UseLoopbackKestrel();
        factory.StartServer();
        var client = factory.CreateClient();
        using var query = new HttpRequestMessage(HttpMethod.Post, "/train?seed=7&mode=gbdt") { Headers = { { "X-Api-Key", "s3cret-key" } } };
        using var queried = await client.SendAsync(query);
        var queryBody = await queried.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, queried.StatusCode);
        Assert.Equal("application/problem+json", queried.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Unknown query option 'seed' on POST /train, which takes none. A run uses the service's settings", queryBody);
        using var json = new HttpRequestMessage(HttpMethod.Post, "/train")
        {
            Headers = { { "X-Api-Key", "s3cret-key" } },
            Content = new StringContent("{\"mode\":\"gbdt\",\"seed\":7}", System.Text.Encoding.UTF8, "application/json"),
        };
        using var posted = await client.SendAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        Assert.Contains("The request has a body (application/json; charset=utf-8), but POST /train reads none: training was not started.", await posted.Content.ReadAsStringAsync());

        // The key is checked first: a caller without it learns nothing more.
        using var anonymous = await client.PostAsync("/train?seed=7", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("null", await client.GetStringAsync("/train")); // no job was started

        // An empty body is no option: Content-Length: 0 (curl -d '', Swagger UI), or chunked with no chunk.
        using var empty = new HttpRequestMessage(HttpMethod.Post, "/train") { Headers = { { "X-Api-Key", "s3cret-key" } }, Content = new StringContent("") };
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(empty)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, await Chunked([]));
        Assert.Equal(HttpStatusCode.BadRequest, await Chunked("{\"seed\":7}"u8.ToArray()));
        // Nor is an empty JSON object, which many clients send with every JSON POST: nothing in it is ignored.
        using var emptyObject = new HttpRequestMessage(HttpMethod.Post, "/train") { Headers = { { "X-Api-Key", "s3cret-key" } }, Content = new StringContent(" { }\n", System.Text.Encoding.UTF8, "application/json") };
        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(emptyObject)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, await Chunked("{}"u8.ToArray()));

        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        Assert.True(document.RootElement.GetProperty("paths").GetProperty("/train").GetProperty("post").GetProperty("responses").TryGetProperty("400", out _));

        async Task<HttpStatusCode> Chunked(byte[] body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/train") { Content = new StreamContent(new MemoryStream(body)) };
            request.Headers.Add("X-Api-Key", "s3cret-key");
            request.Headers.TransferEncodingChunked = true;
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
    }

    [Theory]
    [InlineData(70, false)] // 70 spaces (a blank body as a script pads it): refused as options, the bound was 64 bytes
    [InlineData(200, true)] // "{", 200 spaces and "}": an empty JSON object pretty-printed with indentation
    [InlineData(0, true)] // "{}" after a UTF-8 BOM, as a file saved by Notepad or PowerShell and sent with curl --data-binary @file
    public async Task A_blank_body_or_an_empty_json_object_of_any_length_or_layout_starts_training(int spaces, bool emptyObject)
    {
        using var dir = new TempDirectory();
        using var factory = Create(dir, "s3cret-key");
        factory.UseLoopbackKestrel();
        factory.StartServer();
        var client = factory.CreateClient();
        var text = emptyObject ? (spaces == 0 ? "\uFEFF{}" : "{\n" + new string(' ', spaces) + "\n}") : new string(' ', spaces);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/train")
        {
            Headers = { { "X-Api-Key", "s3cret-key" } },
            Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text)) { Headers = { ContentType = new("application/json") } },
        };

        using var response = await client.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        // A body with an option in it, however much blank space comes first, is still refused.
        using var options = new HttpRequestMessage(HttpMethod.Post, "/train")
        {
            Headers = { { "X-Api-Key", "s3cret-key" } },
            Content = new StringContent(new string(' ', 100) + "{\"seed\":7}", System.Text.Encoding.UTF8, "application/json"),
        };
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(options)).StatusCode);
    }

    [Fact]
    public async Task Every_null_of_a_job_answer_is_allowed_by_the_openapi_document()
    {
        // A queued, running or failed job has no outcome and no publication yet: both came as null where the document
        // gave bare references (no null allowed), so a validating client refused every answer before the job ended.
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = Path.Combine(dir.Path, "missing.csv"), // fails at once: a failed job has nulls too
        });
        var client = factory.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var properties = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("TrainingJobStatus").GetProperty("properties");
        using var accepted = await client.PostAsync("/train", null);
        var answers = new List<JsonElement> { await accepted.Content.ReadFromJsonAsync<JsonElement>() };
        var id = answers[0].GetProperty("id").GetString();
        for (var i = 0; i < 100 && answers[^1].GetProperty("state").GetString() is "queued" or "running"; i++)
        {
            await Task.Delay(100);
            answers.Add(await client.GetFromJsonAsync<JsonElement>($"/train/{id}"));
        }

        Assert.Equal("failed", answers[^1].GetProperty("state").GetString());
        foreach (var answer in answers)
        {
            foreach (var member in answer.EnumerateObject().Where(m => m.Value.ValueKind == JsonValueKind.Null))
            {
                var property = properties.GetProperty(member.Name);
                Assert.True(OpenApiNulls.Allows(property, document.RootElement), $"{member.Name} is null in a {answer.GetProperty("state")} job, but its schema does not allow null: {property}");
            }
        }
    }

    [Fact]
    public async Task Train_job_lifecycle_queues_once_runs_in_the_background_and_swaps_the_model_in()
    {
        using var dir = new TempDirectory();
        using var factory = Create(dir, apiKey: null);
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);

        // Two requests at the same moment: while a job is active, a request is answered with that same job. (A run in
        // gbdt mode can finish before a slow second request reaches the queue; then that request starts the next job,
        // and the two never overlap.)
        var posts = await Task.WhenAll(client.PostAsync("/train", null), client.PostAsync("/train", null));
        using var first = posts[0];
        using var second = posts[1];
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var job = await first.Content.ReadFromJsonAsync<JsonElement>();
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/train/{id}", first.Headers.Location!.OriginalString);
        Assert.Contains(job.GetProperty("state").GetString(), new[] { "queued", "running", "succeeded" });
        var otherId = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var ended = new List<JsonElement>();
        foreach (var jobId in new[] { id, otherId }.Distinct())
        {
            JsonElement state = default;
            for (var i = 0; i < 600; i++)
            {
                state = await client.GetFromJsonAsync<JsonElement>($"/train/{jobId}");
                if (state.GetProperty("state").GetString() is "succeeded" or "failed")
                {
                    break;
                }

                await Task.Delay(100);
            }

            ended.Add(state);
        }

        if (ended.Count == 2)
        {
            var byStart = ended.OrderBy(e => e.GetProperty("started_at").GetDateTimeOffset()).ToArray();
            Assert.True(byStart[0].GetProperty("finished_at").GetDateTimeOffset() <= byStart[1].GetProperty("created_at").GetDateTimeOffset(),
                "a second job was queued while the first was still active");
        }

        var status = ended.OrderBy(e => e.GetProperty("created_at").GetDateTimeOffset()).Last();
        Assert.Equal("succeeded", status.GetProperty("state").GetString());
        var outcome = status.GetProperty("outcome");
        Assert.True(outcome.GetProperty("promoted").GetBoolean());
        var version = outcome.GetProperty("model_version").GetString();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        using var card = JsonDocument.Parse(await client.GetStringAsync("/model"));
        Assert.Equal(version, card.RootElement.GetProperty("version").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/train/nope")).StatusCode);
        // The page names the state as the API does, as its script does once it polls (it said "Succeeded" on load).
        Assert.Contains($"data-state=\"succeeded\">Last run: <b>succeeded</b>", await client.GetStringAsync("/"));

        // Done means done: the job's lease went before it said so, so asking again at once starts a job, not a 409.
        Assert.Equal("local_only", status.GetProperty("publication").GetProperty("state").GetString());
        using var again = await client.PostAsync("/train", null);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
    }

    [Fact]
    public async Task A_model_trained_on_every_row_shows_its_cross_validated_f1_not_empty_test_metrics()
    {
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = PipelineFactory.Sample(dir, 800),
            ["Pipeline:TestFraction"] = "0",
            ["Pipeline:OverfittingThreshold"] = "1",
        });
        var client = factory.CreateClient();
        var job = await (await client.PostAsync("/train", null)).Content.ReadFromJsonAsync<JsonElement>();
        for (var i = 0; i < 300 && (await client.GetFromJsonAsync<JsonElement>($"/train/{job.GetProperty("id").GetString()}")).GetProperty("state").GetString() is "queued" or "running"; i++)
        {
            await Task.Delay(100);
        }

        // The job's test metrics: null, as the OpenAPI document allows, where they came as the string "NaN".
        using (var status = JsonDocument.Parse(await client.GetStringAsync($"/train/{job.GetProperty("id").GetString()}")))
        {
            var outcome = status.RootElement.GetProperty("outcome");
            Assert.True(outcome.GetProperty("promoted").GetBoolean(), status.RootElement.ToString());
            foreach (var metric in new[] { "test_f1", "test_precision", "test_recall", "test_accuracy", "test_roc_auc" })
            {
                Assert.Equal(JsonValueKind.Null, outcome.GetProperty(metric).ValueKind);
            }
        }

        using (var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json")))
        {
            var testF1 = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("TrainingJobOutcome").GetProperty("properties").GetProperty("test_f1");
            Assert.True(testF1.GetProperty("nullable").GetBoolean());
        }

        var page = await client.GetStringAsync("/");
        Assert.Matches(@"No hold-out: trained on every labelled row; cross-validated F1 \(legitimate\) <b>0\.\d{4}</b>", page);
        Assert.Matches(@"mean \|contribution\| on [\d,]+ of [\d,]+ training rows</text>", page); // importance measured on the training rows
        Assert.DoesNotContain("NaN", page);
        using var card = JsonDocument.Parse(await client.GetStringAsync("/model"));
        Assert.Equal(JsonValueKind.Null, card.RootElement.GetProperty("test").ValueKind); // no test metrics, rather than "NaN"
        Assert.InRange(card.RootElement.GetProperty("cv_f1").GetDouble(), 0.5, 1);
    }

    [Fact]
    public async Task A_failing_training_run_is_reported_on_the_job_and_the_service_keeps_running()
    {
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = Path.Combine(dir.Path, "missing.csv"),
        });
        var client = factory.CreateClient();
        var job = await (await client.PostAsync("/train", null)).Content.ReadFromJsonAsync<JsonElement>();
        JsonElement status = default;
        for (var i = 0; i < 100; i++)
        {
            status = await client.GetFromJsonAsync<JsonElement>($"/train/{job.GetProperty("id").GetString()}");
            if (status.GetProperty("state").GetString() == "failed")
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal("failed", status.GetProperty("state").GetString());
        Assert.Contains("missing.csv", status.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

        // With no model, readiness and predictions say the run failed and why, rather than "retry later".
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("failed", await ready.Content.ReadAsStringAsync());
        using var predict = await client.PostAsync("/predict/json", new StringContent("{\"records\":[]}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, predict.StatusCode);
        Assert.Contains("missing.csv", await predict.Content.ReadAsStringAsync());
        Assert.False(predict.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task A_first_model_the_quality_gate_refuses_is_reported_not_awaited()
    {
        // The first run finished, but the gate kept its model out: readiness said "no model loaded (no model loaded
        // yet)", /predict said "the first training run may be in progress. Retry later" with Retry-After, and the page
        // that the first run starts by itself. Nothing was coming.
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = PipelineFactory.Sample(dir, 800),
            ["Pipeline:ExpectedScore"] = "1",
            ["Pipeline:OverfittingThreshold"] = "1",
        });
        var client = factory.CreateClient();
        var id = (await (await client.PostAsync("/train", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        JsonElement status = default;
        for (var i = 0; i < 300 && (status = await client.GetFromJsonAsync<JsonElement>($"/train/{id}")).GetProperty("state").GetString() is "queued" or "running"; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal("succeeded", status.GetProperty("state").GetString());
        Assert.False(status.GetProperty("outcome").GetProperty("promoted").GetBoolean(), status.ToString());
        var reason = status.GetProperty("outcome").GetProperty("not_promoted_reason").GetString()!;
        Assert.Contains("below the expected score 1.0000", reason);

        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains($"no model loaded: training job {id} finished, but the quality gate did not promote its model ({reason})", await ready.Content.ReadAsStringAsync());
        using var predict = await client.PostAsync("/predict/json", new StringContent("{\"records\":[]}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, predict.StatusCode);
        Assert.Contains($"training job {id} finished, but the quality gate did not promote its model ({reason}). Fix the cause and POST /train.", await predict.Content.ReadAsStringAsync());
        Assert.False(predict.Headers.Contains("Retry-After"));
        var page = await client.GetStringAsync("/");
        Assert.Contains("the last training run did not produce one", page);
        Assert.DoesNotContain("starts automatically", page);
    }

    [Fact]
    public async Task With_no_model_at_start_up_the_service_trains_one_by_itself()
    {
        using var dir = new TempDirectory();
        using var factory = new ApiFactory(Path.Combine(dir.Path, "final_model"), Path.Combine(dir.Path, "Artifacts"), new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = PipelineFactory.Sample(dir, 1000),
            ["Pipeline:OverfittingThreshold"] = "1",
            ["Api:TrainOnStartup"] = "true",
        });
        var client = factory.CreateClient();
        var ready = HttpStatusCode.ServiceUnavailable;
        for (var i = 0; i < 600 && ready != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
            ready = (await client.GetAsync("/health/ready")).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, ready);
        Assert.NotNull(new ModelStore(Path.Combine(dir.Path, "final_model")).LoadCurrent(SchemaLoader.Load(TestPaths.SchemaFile)));
    }
}
