using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using NetworkSecurity.Pipeline.Tests;
using Xunit.Abstractions;

namespace NetworkSecurity.Storage.Tests.Replication;

/// <summary>
/// Two real service processes on 127.0.0.1 (two Kestrel ports, separate folders) sharing one bucket on s3rver:
/// a model trained on A is served by B within 30 s while B keeps answering; /train on both at once runs once;
/// a trainer killed with SIGKILL loses its lease within the lease duration and B can train.
/// </summary>
public sealed class ReplicaTests(S3rverFixture server, ITestOutputHelper output) : IClassFixture<S3rverFixture>
{
    // Long enough that B's refusal right after A's SIGKILL comes before the lease lapses on a loaded machine: with 6 s,
    // renewals a loaded A made late left the lease 2.5 s after the kill, a margin of about 2 s.
    private const int LeaseSeconds = 8;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };

    [Fact]
    public async Task Two_replicas_follow_each_others_models_train_one_at_a_time_and_survive_a_killed_trainer()
    {
        var bucket = "rep" + Guid.NewGuid().ToString("N")[..10];
        using (var client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config { ServiceURL = server.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" }))
        {
            await client.PutBucketAsync(bucket);
        }

        using var folderA = new TempDirectory();
        using var folderB = new TempDirectory();
        var a = Start("replica-a", folderA, bucket);
        var processes = new List<ServiceProcess> { a };
        try
        {
            // A has no model and nothing is published: it takes the lease, trains, serves and publishes its first model.
            await WaitUntilAsync(async () => (await _http.GetAsync(Url(a, "/health/ready"))).IsSuccessStatusCode, TimeSpan.FromSeconds(90), "A ready with its first model", processes);
            JsonElement? firstJob = null;
            await WaitUntilAsync(async () => (firstJob = await LatestJobAsync(a))?.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(30), "A's first model published", processes);
            var v1 = firstJob!.Value.GetProperty("outcome").GetProperty("model_version").GetString()!;
            Assert.Equal(v1, (await ServedModelAsync(a)).Version);

            // The Kubernetes probes point at endpoints the real service answers.
            foreach (var probe in DeployManifests.Load().Probes)
            {
                Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(Url(a, probe.Path))).StatusCode);
            }

            // B starts with an empty folder and pulls A's model from the bucket.
            var b = Start("replica-b", folderB, bucket);
            processes.Add(b);
            await WaitUntilAsync(async () => (await _http.GetAsync(Url(b, "/health/ready"))).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "B ready", processes);
            var (bVersion, bOrigin) = await ServedModelAsync(b);
            Assert.Equal(v1, bVersion);
            Assert.Contains("s3://" + bucket, bOrigin);

            // 1. /train on A while a steady stream of requests hits B: B switches to A's model with no failed request.
            using var load = new CancellationTokenSource();
            // The versions the streams were answered by so far: waited for, not a fixed time that a loaded machine outlasts.
            var answered = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var streams = Enumerable.Range(0, 2).Select(_ => StreamPredictionsAsync(b, load.Token, answered)).ToArray();
            var readiness = StreamReadinessAsync(b, load.Token);
            await WaitUntilAsync(() => Task.FromResult(answered.ContainsKey(v1)), TimeSpan.FromSeconds(30), "B's streams answered by the first model", processes);
            var trainA = await _http.PostAsync(Url(a, "/train"), null);
            Assert.Equal(HttpStatusCode.Accepted, trainA.StatusCode);
            var jobA = JsonDocument.Parse(await trainA.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            // Behind a load balancer the poll may reach the other replica: B answers for A's job from the moment it is accepted.
            var jobOnB = await JobAsync(b, jobA);
            Assert.Equal(jobA, jobOnB.GetProperty("id").GetString());
            Assert.Equal("replica-a", jobOnB.GetProperty("replica").GetString());
            JsonElement finished = default;
            await WaitUntilAsync(async () => (finished = await JobAsync(a, jobA)).GetProperty("state").GetString() == "succeeded", TimeSpan.FromSeconds(60), "A's training job", processes);
            var trainingDone = Stopwatch.StartNew();
            var v2 = finished.GetProperty("outcome").GetProperty("model_version").GetString()!;
            Assert.NotEqual(v1, v2);
            Assert.Equal(v2, (await ServedModelAsync(a)).Version); // A serves it at once, publication or not
            await WaitUntilAsync(async () => (await ServedModelAsync(b)).Version == v2, TimeSpan.FromSeconds(30), "B serving A's new model", processes);
            var swapSeconds = trainingDone.Elapsed.TotalSeconds;
            output.WriteLine($"measured: /train finished on A -> B serves {v2}: {swapSeconds:0.00} s (poll 1 s)");
            await WaitUntilAsync(() => Task.FromResult(answered.ContainsKey(v2)), TimeSpan.FromSeconds(30), "B's streams answered by the new model", processes);
            await load.CancelAsync();
            var results = (await Task.WhenAll(streams)).SelectMany(r => r).ToArray();
            var readyFailures = await readiness;
            Assert.True(results.Length >= 20, $"only {results.Length} requests were made during the swap");
            Assert.Empty(results.Where(r => r.Error is not null).Select(r => r.Error));
            Assert.Equal(0, readyFailures);
            Assert.Contains(results, r => r.Version == v1);
            Assert.Contains(results, r => r.Version == v2);
            Assert.Contains("synced from s3://" + bucket, (await ServedModelAsync(b)).Origin);
            await WaitUntilAsync(async () => (jobOnB = await JobAsync(b, jobA)).GetProperty("state").GetString() == "succeeded", TimeSpan.FromSeconds(10), "B reporting A's job as succeeded", processes);
            Assert.Equal(v2, jobOnB.GetProperty("outcome").GetProperty("model_version").GetString());
            var unknown = await _http.GetAsync(Url(b, $"/train/{Guid.NewGuid():N}"));
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Contains($"s3://{bucket}/ns/jobs/", await unknown.Content.ReadAsStringAsync());
            output.WriteLine($"{results.Length} predictions on B during the swap, none failed");

            // 2. /train on A and on B at the same moment: one runs, the other is told who holds the lease.
            await WaitUntilAsync(async () => (await JobAsync(a, jobA)).GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(30), "A's publication (lease released)", processes);
            var both = await Task.WhenAll(_http.PostAsync(Url(a, "/train"), null), _http.PostAsync(Url(b, "/train"), null));
            var codes = both.Select(r => r.StatusCode).ToArray();
            Assert.Contains(HttpStatusCode.Accepted, codes);
            Assert.Contains(HttpStatusCode.Conflict, codes);
            var winner = codes[0] == HttpStatusCode.Accepted ? a : b;
            var loser = winner == a ? b : a;
            var winnerJob = JsonDocument.Parse(await both[winner == a ? 0 : 1].Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            var conflict = JsonDocument.Parse(await both[winner == a ? 1 : 0].Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(winner.Name, conflict.GetProperty("holder").GetString());
            Assert.Equal(winnerJob, conflict.GetProperty("job_id").GetString());
            JsonElement winnerDone = default;
            await WaitUntilAsync(async () => (winnerDone = await JobAsync(winner, winnerJob)).GetProperty("publication").ValueKind == JsonValueKind.Object
                && winnerDone.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(60), "the winner's run published", processes);
            Assert.Equal(winnerJob, (await LatestJobAsync(loser))?.GetProperty("id").GetString()); // no run on the loser: the winner's is the latest
            var v3 = winnerDone.GetProperty("outcome").GetProperty("model_version").GetString()!;
            await WaitUntilAsync(async () => (await ServedModelAsync(loser)).Version == v3, TimeSpan.FromSeconds(30), "the loser serving the winner's model", processes);

            // 3. A takes the lease and is killed with SIGKILL: B is refused until the lease lapses, then trains.
            var trainKilled = await _http.PostAsync(Url(a, "/train"), null);
            Assert.Equal(HttpStatusCode.Accepted, trainKilled.StatusCode);
            var killedJob = JsonDocument.Parse(await trainKilled.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            a.Kill();
            var killed = Stopwatch.StartNew();
            Assert.Equal("replica-a", (await JobAsync(b, killedJob)).GetProperty("replica").GetString()); // recorded before the 202
            var refused = await _http.PostAsync(Url(b, "/train"), null);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("replica-a", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("holder").GetString());
            HttpResponseMessage? taken = null;
            var asked = TimeSpan.Zero; // when the successful request was sent (taking the lease then costs the settle delay)
            await WaitUntilAsync(async () =>
            {
                asked = killed.Elapsed;
                return (taken = await _http.PostAsync(Url(b, "/train"), null)).StatusCode == HttpStatusCode.Accepted;
            }, TimeSpan.FromSeconds(LeaseSeconds + 6), "B taking the lapsed lease", processes);
            var lapse = asked.TotalSeconds;
            output.WriteLine($"measured: lease of the killed trainer lapsed {lapse:0.00} s after SIGKILL (lease {LeaseSeconds} s)");
            Assert.True(lapse <= LeaseSeconds + 2, $"the lease lapsed only after {lapse:0.0} s");
            var jobB = JsonDocument.Parse(await taken!.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            await WaitUntilAsync(async () => (await JobAsync(b, jobB)).GetProperty("state").GetString() == "succeeded", TimeSpan.FromSeconds(60), "B's training job", processes);

            // The killed replica's job is not left "running" for ever: once its record is twice the lease time old, it
            // is reported failed, saying which replica stopped reporting.
            JsonElement lost = default;
            await WaitUntilAsync(async () => (lost = await JobAsync(b, killedJob)).GetProperty("state").GetString() == "failed", TimeSpan.FromSeconds(3 * LeaseSeconds + 10), "B reporting the killed replica's job as failed", processes);
            Assert.Contains("replica replica-a stopped reporting on this job", lost.GetProperty("error").GetString());
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_succeeded_job_recorded_before_its_publication_showed_lapses_like_a_running_one_instead_of_reading_succeeded_for_good()
    {
        // The record a replica left when it stopped between a run's outcome and its publication (a SIGTERM: the final
        // write raced the lease release): succeeded, publication null. Once it is twice the lease time old, the other
        // replicas say the publication is unknown, naming the replica, as for a job that was still publishing.
        var bucket = "lap" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        var id = Guid.NewGuid().ToString("N");
        var record = $$"""{"id":"{{id}}","state":"succeeded","reason":"requested through POST /train","created_at":"2026-01-01T00:00:00+00:00","started_at":"2026-01-01T00:00:01+00:00","finished_at":"2026-01-01T00:00:09+00:00","stage":"done","progress":1,"outcome":null,"error":null,"replica":"replica-gone","publication":null,"lease_warning":null}""";
        await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/jobs/{id}.json", ContentBody = record, UseChunkEncoding = false });
        using var folder = new TempDirectory();
        var service = Start("replica-l", folder, bucket, settings: new Dictionary<string, string> { ["Replication__LeaseSeconds"] = "3", ["Replication__LeaseSettleMilliseconds"] = "1000", ["Api__TrainOnStartup"] = "false" });
        var processes = new[] { service };
        try
        {
            JsonElement job = default;
            await WaitUntilAsync(async () => (job = await JobAsync(service, id)).GetProperty("publication").ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(40), "the lapsed publication", processes);
            Assert.Equal("succeeded", job.GetProperty("state").GetString());
            Assert.Equal("failed", job.GetProperty("publication").GetProperty("state").GetString());
            Assert.Contains("Publication unknown: the replica replica-gone stopped reporting on this job", job.GetProperty("publication").GetProperty("message").GetString());
        }
        finally
        {
            service.Dispose();
        }
    }

    [Fact]
    public async Task A_tampered_job_record_is_refused_saying_what_is_wrong_with_it_not_that_the_store_could_not_be_asked()
    {
        var bucket = "tam" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        string Record(string id, string state) => $$"""{"id":"{{id}}","state":{{state}},"reason":"requested through POST /train","created_at":"2026-01-01T00:00:00+00:00","started_at":null,"finished_at":null,"stage":"queued","progress":0,"outcome":null,"error":null,"replica":"replica-x","publication":null,"lease_warning":null}""";
        var other = Guid.NewGuid().ToString("N");
        var cases = new (string Id, string Body, string Why)[]
        {
            (Guid.NewGuid().ToString("N"), "garbage{", "is not a training job record (not its JSON: "),
            (Guid.NewGuid().ToString("N"), Record(other, "\"running\""), $"is not a training job record (it records job {other})"),
        };
        // An id one digit from the first's: it must differ in that digit (the first's own last digit was 'f' once in 16
        // runs, the two records were one, and the first read "state 7").
        var near = cases[0].Id[..31] + (cases[0].Id[31] == 'f' ? "e" : "f");
        cases = [.. cases, (near, Record(near, "7"), "is not a training job record (its state 7 is not a job state)")];
        foreach (var (id, body, _) in cases)
        {
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/jobs/{id}.json", ContentBody = body, UseChunkEncoding = false });
        }

        using var folder = new TempDirectory();
        // A lease of a minute: a broken record is a 503 (read again, it may be whole) until it is twice the lease time old.
        var service = Start("replica-t", folder, bucket, settings: new Dictionary<string, string> { ["Api__TrainOnStartup"] = "false", ["Replication__LeaseSeconds"] = "60" });
        var processes = new[] { service };
        try
        {
            await WaitUntilAsync(async () => (await _http.GetAsync(Url(service, "/health/live"))).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the service up", processes);
            foreach (var (id, _, why) in cases)
            {
                using var answer = await _http.GetAsync(Url(service, $"/train/{id}"));
                var problem = await answer.Content.ReadAsStringAsync();
                Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, problem);
                Assert.NotNull(answer.Headers.RetryAfter);
                var detail = JsonDocument.Parse(problem).RootElement;
                Assert.Equal("Training job record unreadable", detail.GetProperty("title").GetString());
                Assert.Contains($"s3://{bucket}/ns/jobs/{id}.json {why}", detail.GetProperty("detail").GetString());
                Assert.DoesNotContain("could not be asked", problem);
            }
        }
        finally
        {
            service.Dispose();
        }
    }

    [Fact]
    public async Task A_broken_job_record_never_rewritten_is_answered_failed_once_twice_the_lease_time_old_not_503_for_ever()
    {
        var bucket = "bro" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var folder = new TempDirectory();
        var service = Start("replica-r", folder, bucket, settings: new Dictionary<string, string> { ["Replication__LeaseSeconds"] = "3", ["Replication__LeaseSettleMilliseconds"] = "1000", ["Api__TrainOnStartup"] = "false" });
        var processes = new[] { service };
        try
        {
            await WaitUntilAsync(async () => (await _http.GetAsync(Url(service, "/health/live"))).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the service up", processes);
            var cases = new (string Id, string Body, string Why)[]
            {
                (Guid.NewGuid().ToString("N"), "garbage{", "is not a training job record (not its JSON: "),
                (Guid.NewGuid().ToString("N"), "", "is not a training job record (it is empty)"),
            };
            foreach (var (id, body, _) in cases)
            {
                await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/jobs/{id}.json", ContentBody = body, UseChunkEncoding = false });
            }

            foreach (var (id, _, why) in cases)
            {
                HttpResponseMessage? answer = null;
                await WaitUntilAsync(async () => (answer = await _http.GetAsync(Url(service, $"/train/{id}"))).StatusCode != HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(40), $"record {id} answered", processes);
                var text = await answer!.Content.ReadAsStringAsync();
                Assert.True(answer.StatusCode == HttpStatusCode.OK, text);
                var job = JsonDocument.Parse(text).RootElement;
                Assert.Equal(id, job.GetProperty("id").GetString());
                Assert.Equal("failed", job.GetProperty("state").GetString());
                var error = job.GetProperty("error").GetString();
                Assert.Contains($"s3://{bucket}/ns/jobs/{id}.json {why}", error);
                Assert.Contains("how the job ended is unknown", error);
            }
        }
        finally
        {
            service.Dispose();
        }
    }

    [Fact]
    public async Task Get_train_on_any_replica_answers_the_most_recent_job_of_all_of_them_naming_its_replica()
    {
        // Behind a load balancer, the GET /train after a POST /train on A may reach B: B answered its own older job. The
        // data file is missing, so each run fails at once: which job is the latest is what matters here.
        var bucket = "lat" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var folderA = new TempDirectory();
        using var folderB = new TempDirectory();
        Dictionary<string, string> Settings(TempDirectory folder) => new() { ["Api__TrainOnStartup"] = "false", ["Pipeline__DataPath"] = Path.Combine(folder.Path, "missing.csv") };
        var a = Start("replica-a", folderA, bucket, settings: Settings(folderA));
        var b = Start("replica-b", folderB, bucket, settings: Settings(folderB));
        var processes = new[] { a, b };
        try
        {
            foreach (var service in processes)
            {
                await WaitUntilAsync(async () => (await _http.GetAsync(Url(service, "/health/live"))).IsSuccessStatusCode, TimeSpan.FromSeconds(60), $"{service.Name} up", processes);
            }

            Assert.Null(await LatestJobAsync(b)); // none anywhere yet

            var jobB = await TrainAsync(b, processes);
            await WaitUntilAsync(async () => (await JobAsync(b, jobB)).GetProperty("state").GetString() == "failed", TimeSpan.FromSeconds(60), "B's job failed", processes);
            Assert.Equal(jobB, (await LatestJobAsync(a))?.GetProperty("id").GetString()); // A has none of its own: B's

            var jobA = await TrainAsync(a, processes);
            foreach (var service in processes)
            {
                var latest = await LatestJobAsync(service);
                Assert.Equal(jobA, latest?.GetProperty("id").GetString());
                Assert.Equal("replica-a", latest?.GetProperty("replica").GetString());
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    // POST /train until it is accepted (the lease of a job just failed is released right after it shows "failed").
    private async Task<string> TrainAsync(ServiceProcess service, IReadOnlyList<ServiceProcess> processes)
    {
        HttpResponseMessage? accepted = null;
        await WaitUntilAsync(async () => (accepted = await _http.PostAsync(Url(service, "/train"), null)).StatusCode == HttpStatusCode.Accepted, TimeSpan.FromSeconds(30), $"POST /train accepted on {service.Name}", processes);
        return JsonDocument.Parse(await accepted!.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    private ServiceProcess Start(string name, TempDirectory folder, string bucket, string? endpoint = null, IReadOnlyDictionary<string, string>? settings = null) => new(name, folder.Path, new Dictionary<string, string>
    {
        ["S3_BUCKET"] = bucket,
        ["S3_PREFIX"] = "ns",
        ["S3_ENDPOINT_URL"] = endpoint ?? server.Endpoint,
        ["S3_FORCE_PATH_STYLE"] = "true",
        ["S3_DISABLE_CHUNKED_ENCODING"] = "true",
        ["AWS_ACCESS_KEY_ID"] = "S3RVER",
        ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
        ["Replication__ReplicaId"] = name,
        ["Replication__PollSeconds"] = "1",
        ["Replication__LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Replication__LeaseSettleMilliseconds"] = "3000", // generous: a loaded machine paused a replica between reading the free lease and writing its own for over 1.5 s, and both took it
        ["Tracking__Enabled"] = "false",
        ["Logging__Directory"] = "none",
        ["DOTNET_gcServer"] = "0",
    }.Concat(settings ?? new Dictionary<string, string>()).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value), "--Pipeline:Training:Mode=gbdt");

    [Fact]
    public async Task Outages_and_broken_versions_never_cost_the_served_model_are_logged_once_and_publication_catches_up()
    {
        var bucket = "out" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var proxy = new FaultyProxy(server.Endpoint);
        using var folder = new TempDirectory();
        var service = Start("replica-c", folder, bucket, proxy.Endpoint);
        var processes = new[] { service };
        try
        {
            await WaitUntilAsync(async () => (await LatestJobAsync(service))?.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(90), "the first model published", processes);
            var v1 = (await ServedModelAsync(service)).Version!;

            // Train, and take the store down as soon as the lease is taken: the new model is served at once, its
            // publication is retried in the background; the sync keeps the model and logs the outage once.
            var (job, v2) = await TrainWhileTheStoreRefusesAsync(service, proxy, processes);
            Assert.Equal(v2, (await ServedModelAsync(service)).Version);
            proxy.Set(ProxyMode.Garbage);
            // Until the sync has seen the outage: one poll's S3 call retries with backoff (3 retries), and once in CI
            // a single call outlasted a fixed 2.5 s outage and simply succeeded after it, so no outage was ever seen.
            // (Not the log line alone: a poll during the refusals above may have logged and recovered from one already.)
            await WaitUntilAsync(async () => ReadyDescription(await _http.GetStringAsync(Url(service, "/health/ready"))).Contains(": the store cannot be read since ", StringComparison.Ordinal),
                TimeSpan.FromSeconds(40), "the sync's outage", processes);
            // Readiness changes a moment before the line reaches the pipe this test reads: wait for it, do not race it.
            await WaitUntilAsync(() => Task.FromResult(service.Output.Contains("is unreachable or failing", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the sync's outage line", processes);
            await Task.Delay(1500); // more polls against a store answering garbage: still one line
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(Url(service, "/health/ready"))).StatusCode);
            Assert.Equal(v2, (await ServedModelAsync(service)).Version);
            // Still ready (it serves a model), and readiness says that it cannot see a newer one: not only the log.
            Assert.Contains("/ns/final_model/LATEST at 127.0.0.1:", ReadyDescription(await _http.GetStringAsync(Url(service, "/health/ready"))));
            Assert.Contains(": the store cannot be read since ", ReadyDescription(await _http.GetStringAsync(Url(service, "/health/ready"))));

            proxy.Set(ProxyMode.Forward);
            await WaitUntilAsync(async () => (await JobAsync(service, job)).GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(30), "the publication catching up", processes);
            Assert.True((await JobAsync(service, job)).GetProperty("publication").GetProperty("attempts").GetInt32() >= 2);
            // One line when an outage begins and one when it ends, however many polls it lasted. (A poll that timed out
            // on the loaded CI host before this outage made one of its own, with its own pair of lines: 2, not 1.)
            await WaitUntilAsync(() => Task.FromResult(Count(service.Output, "answers again") >= Count(service.Output, "is unreachable or failing")), TimeSpan.FromSeconds(30), "the sync's recovery line", processes);
            Assert.Equal(Count(service.Output, "answers again"), Count(service.Output, "is unreachable or failing"));
            Assert.DoesNotContain("cannot be read", ReadyDescription(await _http.GetStringAsync(Url(service, "/health/ready"))));
            using (var latest = await s3.GetObjectAsync(bucket, "ns/final_model/LATEST"))
            using (var reader = new StreamReader(latest.ResponseStream))
            {
                Assert.Equal(v2, await reader.ReadToEndAsync());
            }

            // LATEST pointed back at the older version (by hand): the replica does not go back, and says so once.
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "ns/final_model/LATEST", ContentBody = v1, UseChunkEncoding = false });
            await WaitUntilAsync(() => Task.FromResult(service.Output.Contains($"LATEST names {v1}, older than the served {v2}", StringComparison.Ordinal)), TimeSpan.FromSeconds(40), "the refusal to go back", processes);
            await Task.Delay(1500);
            Assert.Equal(1, Count(service.Output, $"LATEST names {v1}, older than the served {v2}"));
            Assert.Equal(v2, (await ServedModelAsync(service)).Version);

            // LATEST names a newer version whose model file does not match its manifest: ignored, one error, model kept.
            const string broken = "29990101_000000";
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/final_model/{broken}/model.nsm", ContentBody = "not the model", UseChunkEncoding = false });
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/final_model/{broken}/.manifest.json", ContentBody = "{\"model.nsm\":\"" + new string('0', 64) + "\"}", UseChunkEncoding = false });
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "ns/final_model/LATEST", ContentBody = broken, UseChunkEncoding = false });
            await WaitUntilAsync(() => Task.FromResult(service.Output.Contains($"LATEST names {broken} but it is unusable", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the broken version's error", processes);
            await Task.Delay(2500); // more polls: no second download, no second error
            Assert.Equal(1, Count(service.Output, $"LATEST names {broken} but it is unusable"));
            Assert.Equal(v2, (await ServedModelAsync(service)).Version);
            Assert.NotEqual(v1, v2);
        }
        finally
        {
            service.Dispose();
        }
    }

    [Fact]
    public async Task A_publication_cut_short_by_a_restart_is_resumed_so_latest_and_the_fleet_catch_up()
    {
        var bucket = "rst" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var proxy = new FaultyProxy(server.Endpoint);
        using var folder = new TempDirectory();
        var first = Start("replica-r", folder, bucket, proxy.Endpoint);
        var processes = new List<ServiceProcess> { first };
        try
        {
            await WaitUntilAsync(async () => (await LatestJobAsync(first))?.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(90), "the first model published", processes);
            var (_, v2) = await TrainWhileTheStoreRefusesAsync(first, proxy, processes);

            // Restarted while the store was down: the queued publication (in memory) went with the process. LATEST
            // stayed at the older version for good, and the other replicas with it.
            first.Kill();
            proxy.Set(ProxyMode.Forward);
            var second = Start("replica-r", folder, bucket, proxy.Endpoint);
            processes.Add(second);
            await WaitUntilAsync(async () => await LatestAsync(s3, bucket) == v2, TimeSpan.FromSeconds(60), "LATEST naming the model served here", processes);
            Assert.Equal(v2, (await ServedModelAsync(second)).Version);
            Assert.Contains($"the served {v2} is not complete", second.Output);
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_version_whose_files_went_up_but_not_latest_is_pointed_at_after_a_restart()
    {
        // A shutdown cut the publication after the model's files: the version is complete in the store, but LATEST and
        // the run's artifacts never came. A restart must finish it; a version whose publication finished is left alone.
        var bucket = "cut" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var folder = new TempDirectory();
        var first = Start("replica-s", folder, bucket);
        var processes = new List<ServiceProcess> { first };
        try
        {
            await WaitUntilAsync(async () => (await LatestJobAsync(first))?.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(90), "the first model published", processes);
            var version = (await ServedModelAsync(first)).Version!;
            first.Kill();
            await s3.DeleteObjectAsync(bucket, "ns/final_model/LATEST");
            var artifacts = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket, Prefix = $"ns/artifact/{version}/" });
            foreach (var item in artifacts.S3Objects ?? [])
            {
                await s3.DeleteObjectAsync(bucket, item.Key);
            }

            var second = Start("replica-s", folder, bucket);
            processes.Add(second);
            await WaitUntilAsync(async () => await LatestAsync(s3, bucket) == version, TimeSpan.FromSeconds(60), "LATEST naming the served version again", processes);
            // LATEST moves before the run's artifacts go up; the publication's log line comes after them.
            await WaitUntilAsync(() => Task.FromResult(second.Output.Contains($"Run {version} published", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the republication's log line", processes);
            Assert.Contains($"the served {version} is complete in", second.Output);
            // The model's three files are not sent again; only the run's artifacts are.
            Assert.Contains(" 3 unchanged", second.Output.Split('\n').Single(l => l.Contains($"Run {version} published", StringComparison.Ordinal) && l.Contains("attempt 1", StringComparison.Ordinal)));
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_newer_version_whose_files_match_the_stores_manifest_but_not_their_own_is_never_adopted_and_readiness_and_model_say_why()
    {
        // model.nsm replaced under a version's name with the store's .manifest.json rewritten to match, its manifest.json
        // not: the bundle alone loads, the version as a whole does not.
        var bucket = "rpl" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var folder = new TempDirectory();
        var service = Start("replica-p", folder, bucket);
        var processes = new[] { service };
        try
        {
            await WaitUntilAsync(async () => (await LatestJobAsync(service))?.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(90), "the first model published", processes);
            var v1 = (await ServedModelAsync(service)).Version!;
            const string replaced = "29990101_000000";
            var manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(await ReadAsync(s3, bucket, $"ns/final_model/{v1}/.manifest.json"))!;
            foreach (var file in manifest.Keys.ToArray())
            {
                var bytes = await ReadAsync(s3, bucket, $"ns/final_model/{v1}/{file}");
                if (file == "model.nsm")
                {
                    bytes = [.. bytes, 0]; // still loads (the bundle ignores what follows it), but is not the file manifest.json names
                    manifest[file] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
                }

                await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/final_model/{replaced}/{file}", InputStream = new MemoryStream(bytes), UseChunkEncoding = false });
            }

            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = $"ns/final_model/{replaced}/.manifest.json", ContentBody = JsonSerializer.Serialize(manifest), UseChunkEncoding = false });
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "ns/final_model/LATEST", ContentBody = replaced, UseChunkEncoding = false });

            await WaitUntilAsync(() => Task.FromResult(service.Output.Contains($"LATEST names {replaced} but it is unusable", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the replaced version refused", processes);
            var error = service.Output.Split('\n').Single(l => l.Contains($"LATEST names {replaced} but it is unusable", StringComparison.Ordinal));
            Assert.Contains($"s3://{bucket}/ns/final_model/{replaced}/", error); // where, in the store
            Assert.DoesNotContain(".download-", error); // not the download folder, gone by now
            Assert.DoesNotContain($"serving model {replaced}", service.Output);
            Assert.Equal(v1, (await ServedModelAsync(service)).Version);
            Assert.Equal(v1, File.ReadAllText(Path.Combine(folder.Path, "final_model", "CURRENT")).Trim());
            var ready = JsonDocument.Parse(await _http.GetStringAsync(Url(service, "/health/ready"))).RootElement;
            Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("model").GetProperty("status").GetString()); // not a fallback

            // Readiness and /model say what LATEST names and why this replica does not serve it, not only the log.
            var model = ready.GetProperty("checks").GetProperty("model");
            Assert.Contains($"s3://{bucket}/ns/final_model/LATEST", model.GetProperty("description").GetString());
            Assert.Contains($"names {replaced}, not served: unusable", model.GetProperty("description").GetString());
            Assert.Equal(replaced, model.GetProperty("data").GetProperty("store_latest").GetString());
            var storeLatest = JsonDocument.Parse(await _http.GetStringAsync(Url(service, "/model"))).RootElement.GetProperty("serving").GetProperty("store_latest");
            Assert.Equal(replaced, storeLatest.GetProperty("version").GetString());
            Assert.Contains("manifest.json", storeLatest.GetProperty("not_served_because").GetString());

            // LATEST back at the served version: nothing left to explain.
            await s3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = bucket, Key = "ns/final_model/LATEST", ContentBody = v1, UseChunkEncoding = false });
            await WaitUntilAsync(async () => JsonDocument.Parse(await _http.GetStringAsync(Url(service, "/model"))).RootElement.GetProperty("serving").GetProperty("store_latest").GetProperty("version").GetString() == v1,
                TimeSpan.FromSeconds(30), "/model naming LATEST's new version", processes);
            storeLatest = JsonDocument.Parse(await _http.GetStringAsync(Url(service, "/model"))).RootElement.GetProperty("serving").GetProperty("store_latest");
            Assert.Equal(JsonValueKind.Null, storeLatest.GetProperty("not_served_because").ValueKind);
            Assert.DoesNotContain("not served", JsonDocument.Parse(await _http.GetStringAsync(Url(service, "/health/ready"))).RootElement.GetProperty("checks").GetProperty("model").GetProperty("description").GetString());
        }
        finally
        {
            service.Dispose();
        }
    }

    private static string ReadyDescription(string health) =>
        JsonDocument.Parse(health).RootElement.GetProperty("checks").GetProperty("model").GetProperty("description").GetString()!;

    private static async Task<byte[]> ReadAsync(AmazonS3Client s3, string bucket, string key)
    {
        using var response = await s3.GetObjectAsync(bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task Replicas_started_together_on_an_empty_bucket_train_once_and_the_waiting_one_says_who_trains()
    {
        var bucket = "two" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        using var folderA = new TempDirectory();
        using var folderB = new TempDirectory();
        var processes = new List<ServiceProcess> { Start("replica-1", folderA, bucket), Start("replica-2", folderB, bucket) };
        try
        {
            // Until both serve: what each replica's readiness said while it had no model.
            var said = new HashSet<string>();
            await WaitUntilAsync(async () =>
            {
                var ready = 0;
                foreach (var process in processes)
                {
                    using var response = await _http.GetAsync(Url(process, "/health/ready"));
                    ready += response.IsSuccessStatusCode ? 1 : 0;
                    if (!response.IsSuccessStatusCode)
                    {
                        said.Add($"{process.Name}: {ReadyDescription(await response.Content.ReadAsStringAsync())}");
                    }
                }

                return ready == processes.Count;
            }, TimeSpan.FromSeconds(120), "both replicas ready", processes);

            var versions = new List<string?>();
            foreach (var process in processes)
            {
                versions.Add((await ServedModelAsync(process)).Version);
            }

            Assert.Single(versions.Distinct()); // one model, trained once
            var trained = await LatestJobAsync(processes[0]);
            var trainer = processes.Single(p => p.Name == trained?.GetProperty("replica").GetString());
            var waiter = processes.Single(p => p != trainer);
            Assert.Equal(trained?.GetProperty("id").GetString(), (await LatestJobAsync(waiter))?.GetProperty("id").GetString()); // no run of its own: the trainer's is the latest
            Assert.Contains(said, line => line.StartsWith($"{waiter.Name}: ", StringComparison.Ordinal)
                && line.Contains($"nothing published yet: replica {trainer.Name} is training (job ", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_model_served_while_its_run_is_still_being_tracked_is_published_by_its_run_only()
    {
        // The model is served from promotion on; its run publishes it after MLflow's tracking, here 3 s against a
        // server that never answers. The model sync polling every second meanwhile took it for a publication cut short
        // and published it itself, beside the run's own publication ("publishing it now"), for the first model (no
        // LATEST) and for the next (LATEST older).
        var bucket = "trk" + Guid.NewGuid().ToString("N")[..10];
        using var s3 = await NewBucketAsync(bucket);
        var mlflow = new System.Net.Sockets.TcpListener(IPAddress.Loopback, TestPorts.Free());
        mlflow.Start(); // connections wait in the backlog: requests are never answered
        using var folder = new TempDirectory();
        var service = Start("replica-t", folder, bucket, settings: new Dictionary<string, string>
        {
            ["Tracking__Enabled"] = "true",
            ["MLFLOW_TRACKING_URI"] = $"http://127.0.0.1:{((IPEndPoint)mlflow.LocalEndpoint).Port}",
            ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "3",
            ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0",
        });
        var processes = new[] { service };
        try
        {
            await WaitUntilAsync(async () => (await LatestJobAsync(service))?.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(90), "the first model published", processes);
            var train = await _http.PostAsync(Url(service, "/train"), null);
            Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
            var job = JsonDocument.Parse(await train.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            JsonElement status = default;
            await WaitUntilAsync(async () => (status = await JobAsync(service, job)).GetProperty("publication").ValueKind == JsonValueKind.Object
                && status.GetProperty("publication").GetProperty("state").GetString() == "published", TimeSpan.FromSeconds(90), "the second model published", processes);
            var second = status.GetProperty("outcome").GetProperty("model_version").GetString()!;
            Assert.Equal(second, await LatestAsync(s3, bucket));
            // The publication's log line comes just after its state, through the asynchronous console sink and a pipe:
            // wait for it, do not race it.
            await WaitUntilAsync(() => Task.FromResult(service.Output.Contains($"Run {second} published", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the second run's publication line", processes);

            var output = service.Output;
            Assert.Equal(2, output.Split('\n').Count(l => l.Contains("Run NOT tracked", StringComparison.Ordinal))); // both runs spent their 3 s
            Assert.DoesNotContain("publishing it now", output);
            Assert.DoesNotContain("a replica never goes back", output);
            Assert.Single(output.Split('\n'), l => l.Contains($"Run {second} published", StringComparison.Ordinal));
        }
        finally
        {
            service.Dispose();
            mlflow.Stop();
        }
    }

    private async Task<AmazonS3Client> NewBucketAsync(string bucket)
    {
        var s3 = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
        {
            ServiceURL = server.Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        await s3.PutBucketAsync(bucket);
        return s3;
    }

    /// <summary>Queues a run and takes the store down once the lease is taken: the run's model is served, its publication retries.</summary>
    private async Task<(string Job, string Version)> TrainWhileTheStoreRefusesAsync(ServiceProcess service, FaultyProxy proxy, IReadOnlyList<ServiceProcess> processes)
    {
        var train = await _http.PostAsync(Url(service, "/train"), null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var job = JsonDocument.Parse(await train.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        proxy.Set(ProxyMode.Refuse);
        JsonElement status = default;
        await WaitUntilAsync(async () => (status = await JobAsync(service, job)).GetProperty("publication").ValueKind == JsonValueKind.Object
            && status.GetProperty("publication").GetProperty("state").GetString() == "retrying", TimeSpan.FromSeconds(60), "a publication retrying", processes);
        return (job, status.GetProperty("outcome").GetProperty("model_version").GetString()!);
    }

    private static async Task<string?> LatestAsync(AmazonS3Client s3, string bucket)
    {
        try
        {
            using var latest = await s3.GetObjectAsync(bucket, "ns/final_model/LATEST");
            using var reader = new StreamReader(latest.ResponseStream);
            return await reader.ReadToEndAsync();
        }
        catch (AmazonS3Exception)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or AmazonClientException)
        {
            // Read while the service overwrote it: s3rver (not atomic, unlike S3) ended the body short ("response ended
            // prematurely") or sent another object's bytes ("Expected hash not equal to calculated hash").
            return null;
        }
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static Uri Url(ServiceProcess service, string path) => new(service.BaseAddress, path);

    private async Task<(string? Version, string? Origin)> ServedModelAsync(ServiceProcess service)
    {
        using var response = await _http.GetAsync(Url(service, "/model"));
        return response.IsSuccessStatusCode
            ? (response.Headers.GetValues("X-Model-Version").Single(), response.Headers.GetValues("X-Model-Origin").Single())
            : (null, null);
    }

    private async Task<JsonElement?> LatestJobAsync(ServiceProcess service)
    {
        var text = await _http.GetStringAsync(Url(service, "/train"));
        return text.Length > 0 && JsonDocument.Parse(text).RootElement is { ValueKind: JsonValueKind.Object } body ? body : null;
    }

    private async Task<JsonElement> JobAsync(ServiceProcess service, string id) =>
        JsonDocument.Parse(await _http.GetStringAsync(Url(service, $"/train/{id}"))).RootElement;

    private static string OneRecord()
    {
        var lines = File.ReadLines(TestPaths.DataFile).Take(2).ToArray();
        var names = lines[0].Split(',');
        var values = lines[1].Split(',');
        var fields = names.Zip(values).Where(p => p.First != "Result").Select(p => $"\"{p.First}\":{p.Second}");
        return "{\"records\":[{" + string.Join(',', fields) + "}]}";
    }

    private async Task<List<(string? Version, string? Error)>> StreamPredictionsAsync(ServiceProcess service, CancellationToken stop,
        System.Collections.Concurrent.ConcurrentDictionary<string, int>? answered = null)
    {
        var body = OneRecord();
        var results = new List<(string?, string?)>();
        string? last = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await _http.PostAsync(Url(service, "/predict/json"), new StringContent(body, Encoding.UTF8, "application/json"), CancellationToken.None);
                var version = response.Headers.TryGetValues("X-Model-Version", out var v) ? v.Single() : null;
                var error = response.StatusCode != HttpStatusCode.OK ? $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}"
                    : last is not null && string.CompareOrdinal(version, last) < 0 ? $"went back from {last} to {version}"
                    : null;
                last = version ?? last;
                results.Add((version, error));
                if (version is not null && error is null)
                {
                    answered?.AddOrUpdate(version, 1, (_, n) => n + 1);
                }
            }
            catch (HttpRequestException ex)
            {
                results.Add((null, ex.Message));
            }
        }

        return results;
    }

    private async Task<int> StreamReadinessAsync(ServiceProcess service, CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            using var response = await _http.GetAsync(Url(service, "/health/ready"), CancellationToken.None);
            failures += response.IsSuccessStatusCode ? 0 : 1;
            await Task.Delay(100, CancellationToken.None);
        }

        return failures;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, IReadOnlyList<ServiceProcess> processes)
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < timeout)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                last = ex; // not up yet, or the field is not there yet
            }

            await Task.Delay(Poll);
        }

        Assert.Fail($"timed out after {timeout.TotalSeconds:0} s waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})") + "\n" + string.Join('\n', processes.Select(p => p.Tail)));
    }
}
