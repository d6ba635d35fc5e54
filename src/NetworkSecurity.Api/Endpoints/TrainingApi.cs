using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>POST /train queues a run for the background worker; GET /train/{id} reports on it.</summary>
public static class TrainingApi
{
    public const string ApiKeyHeader = "X-Api-Key";

    public static RouteGroupBuilder MapTrainingApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/train").WithTags("Training");

        group.MapPost("", StartTraining)
            .WithName("StartTraining")
            .WithSummary("Retrain the model in the background")
            .WithDescription("Queues a run of the training pipeline and returns 202 with the job and a Location to poll. If a run is already queued or running here, returns that job instead of starting another. Only one replica trains at a time: while another replica holds the training lease (training or publishing), answers 409 with the holder, its job id and when the lease expires. When the server has an API key configured (NETWORKSECURITY_API_KEY), send it in the X-Api-Key header. It takes no options (a query option, or a body other than an empty one or {}, is a 400): a run uses the service's settings.")
            .Produces<TrainingJobStatus>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status408RequestTimeout) // a body that arrives too slowly (Kestrel's minimum data rate)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("/{id}", GetJob)
            .WithName("GetTrainingJob")
            .WithSummary("Status of a training job")
            .WithDescription("queued; running with its stage and progress (0–1); succeeded with the test metrics and whether the model was promoted; or failed with the error. Any replica answers for a job another one runs when they share object storage (the job's records are in s3://bucket/prefix/jobs/; a job whose replica stopped reporting for twice the lease time is shown failed); 503 when this replica does not know the job and the store cannot be asked, or its record there is not the job's (a torn read, read again); a record still not the job's once twice the lease time old is shown failed, how the job ended unknown.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapGet("", GetLatestJob)
            .WithName("GetLatestTrainingJob")
            .WithSummary("The most recent training job (null if none)")
            .WithDescription("The job most recently queued, as GET /train/{id} gives it, its replica in replica: with object storage, of all the replicas that share it (their records in s3://bucket/prefix/jobs/), 503 when the store cannot be asked; without, of this replica. The JSON value null when none has been queued (without object storage: since the service started, jobs are kept in memory).")
            .Produces<TrainingJobStatus>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    public static async Task<Results<Accepted<TrainingJobStatus>, ProblemHttpResult>> StartTraining(HttpContext context, TrainingCoordinator coordinator, SharedJobs shared, IOptions<ApiOptions> options, IHostApplicationLifetime lifetime, ILogger<TrainingJob> logger)
    {
        var key = options.Value.TrainApiKey;
        if (!string.IsNullOrEmpty(key) && !KeyMatches(context.Request.Headers[ApiKeyHeader].ToString(), key))
        {
            var given = context.Request.Headers[ApiKeyHeader].Count;
            logger.LogWarning("POST /train refused: {What} API key from {Remote}", given switch { 0 => "missing", 1 => "wrong", _ => "repeated" }, context.Connection.RemoteIpAddress);
            // RFC 9110: a 401 says how to authenticate. Headers sent twice are read as one list: say so, not "wrong".
            context.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{ApiKeyHeader}\"";
            return TypedResults.Problem(
                title: given switch { 0 => "API key required", 1 => "Wrong API key", _ => "More than one API key" },
                detail: given switch
                {
                    0 => $"Send the server's API key in the {ApiKeyHeader} header to start training.",
                    1 => $"The {ApiKeyHeader} header does not hold the server's API key; training was not started.",
                    _ => $"The request has {given} {ApiKeyHeader} headers: send the server's API key in one; training was not started.",
                },
                statusCode: StatusCodes.Status401Unauthorized);
        }

        // A run takes the service's settings: options sent along (?seed=7, a JSON body {"mode": "gbdt"}) were ignored
        // without a word, and the run trained with the configured ones.
        if (QueryOptions.CheckKnown(context.Request) is { } queryProblem)
        {
            queryProblem.ProblemDetails.Detail += " " + SettingsHint;
            return queryProblem;
        }

        bool hasOptions;
        try
        {
            hasOptions = await HasOptionsAsync(context);
        }
        catch (Exception ex) when (Problems.IsClientAbort(ex, context.RequestAborted))
        {
            return Problems.ClientClosed();
        }
        catch (BadHttpRequestException ex)
        {
            // A body that trickles in (Kestrel's minimum data rate): a 408 saying so, as on /predict. Left to the
            // exception handler, the client got a bare 408 while the request log said 500, with two stack traces.
            return Problems.FromBadRequest(ex);
        }

        if (hasOptions)
        {
            return TypedResults.Problem(
                title: "POST /train takes no body",
                detail: $"The request has a body{(context.Request.ContentType is { Length: > 0 } type ? $" ({(type.Length <= 100 ? type : type[..100] + "…")})" : "")}, but POST /train reads none: training was not started. {SettingsHint}",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var request = await coordinator.RequestAsync("requested through POST /train", context.RequestAborted);
        if (request.Job is { } job)
        {
            if (request.Created)
            {
                await shared.ShareNowAsync();
            }

            // A shutdown (SIGTERM) that began while the lease was being taken (seconds with a settle delay) cancels the run
            // as soon as it starts: it was answered 202 with a job id the restarted service no longer knows, so the client
            // never heard that nothing was trained.
            return lifetime.ApplicationStopping.IsCancellationRequested
                ? ShuttingDown(context, options.Value.RetryAfterSeconds, job.Id)
                : TypedResults.Accepted($"/train/{job.Id}", job.Status);
        }

        if (request.HeldBy is { } holder)
        {
            // The expiry is on the store's clock: measured against this replica's own, a store clock an hour ahead gave
            // Retry-After: 3600 for a lease that lapses within LeaseSeconds.
            var seconds = Math.Clamp((int)Math.Ceiling((holder.ExpiresAt - coordinator.Lease.UtcNow).TotalSeconds), 1, 3600);
            Problems.RetryAfter(context, seconds);
            var who = holder.Holder == coordinator.ReplicaId ? "This replica" : $"Replica {holder.Holder}";
            return TypedResults.Problem(
                title: "Another training run holds the lease",
                detail: $"{who} holds the training lease for job {holder.JobId} (training or publishing its model) until {holder.ExpiresAt:u} at the latest; only one replica trains at a time. Try again later.",
                statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["holder"] = holder.Holder, ["job_id"] = holder.JobId, ["expires_at"] = holder.ExpiresAt });
        }

        // The shared store cannot be asked who trains (unreachable, a missing bucket, refused credentials): no replica
        // trains until it answers, so two never train at once; the live model keeps serving meanwhile.
        Problems.RetryAfter(context, options.Value.RetryAfterSeconds);
        return TypedResults.Problem(
            title: "Training lease unavailable",
            detail: $"{Sentence(request.Error)} Replicas that share object storage train only while it can say who holds the training lease; the live model keeps serving. Try again when the store answers.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    public static async Task<Results<Ok<TrainingJobStatus>, ProblemHttpResult>> GetJob(string id, TrainingJobQueue jobs, SharedJobs shared, HttpContext context, IOptions<ApiOptions> options)
    {
        if (jobs.Find(id) is { } job)
        {
            return TypedResults.Ok(job.Status);
        }

        // Behind a load balancer the poll may reach a replica other than the one running the job: it asks the shared store.
        var lookup = await shared.FindAsync(id, context.RequestAborted);
        if (lookup.Status is { } status)
        {
            return TypedResults.Ok(status);
        }

        // Job ids are 32 hex digits: a longer one is echoed cut, not whole (a 5,000-character id came back in full).
        var shown = id.Length <= 40 ? id : id[..40] + "…";
        if (lookup is { Error: { } unreadable, Unreadable: true })
        {
            // The store answered: saying it "could not be asked" sent operators after an outage that was not there. Still a
            // 503: a record read while its replica rewrites it is whole again at the next read.
            Problems.RetryAfter(context, options.Value.RetryAfterSeconds);
            return TypedResults.Problem(
                title: "Training job record unreadable",
                detail: $"No training job '{shown}' on this replica, and its record in the shared store cannot be read: {unreadable}. Its replica rewrites it while the job runs or publishes; a record that stays so was written by something else (remove or replace it), and is answered as a failed job once it is twice the lease time old.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (lookup.Error is { } error)
        {
            Problems.RetryAfter(context, options.Value.RetryAfterSeconds);
            return TypedResults.Problem(
                title: "Training job status unavailable",
                detail: $"No training job '{shown}' on this replica, and the shared store, where every replica records its jobs, could not be asked: {error}. Try again when the store answers.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Problem(
            title: "No such job",
            detail: shared.Location is { } store && !S3JobBoard.IsJobId(id)
                // Never looked up in the store (no key is built from it): saying "not in s3://..." sent an upper-cased id's
                // owner looking for a job that is there under its own, lower-case id.
                ? $"No training job '{shown}' on this replica, and it is not a job id (32 lower-case hexadecimal digits, as POST /train's id and Location give it), so {store}, where every replica records its jobs, was not asked."
                : shared.Location is { } location
                ? $"No training job '{shown}' on this replica or in {location}, where every replica records its jobs (the last {TrainingJobQueue.JobsKept} finished ones are kept; the runs themselves stay in Artifacts/ and MLflow)."
                : $"No training job '{shown}' on this replica: jobs are kept in memory, the last {TrainingJobQueue.JobsKept} since the service started (a restart forgets them; the runs themselves stay in Artifacts/ and MLflow).",
            statusCode: StatusCodes.Status404NotFound);
    }

    // No job yet: the JSON value null, as documented (an Ok(null) wrote an empty body without a media type, which a
    // JSON client cannot parse). With object storage, the latest of all replicas: behind a load balancer, the GET /train
    // after a POST /train may reach another replica, which answered its own older job, or null.
    public static async Task<Results<Ok<TrainingJobStatus>, ContentHttpResult, ProblemHttpResult>> GetLatestJob(TrainingJobQueue jobs, SharedJobs shared, HttpContext context, IOptions<ApiOptions> options)
    {
        var lookup = await shared.LatestAsync(jobs.Latest?.Status, context.RequestAborted);
        if (lookup.Error is { } error)
        {
            Problems.RetryAfter(context, options.Value.RetryAfterSeconds);
            return TypedResults.Problem(
                title: "Latest training job unavailable",
                detail: $"The most recent training job may be another replica's, and the shared store, where every replica records its jobs, could not be asked: {error}. Try again when the store answers (GET /train/{{id}} still answers for this replica's own jobs).",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return lookup.Status is { } status
            ? TypedResults.Ok(status)
            : TypedResults.Text("null", "application/json; charset=utf-8");
    }

    // Constant time, so the key cannot be guessed byte by byte from response times.
    private static bool KeyMatches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    // Whether the body could carry options: none, a blank one or an empty JSON object ({}, which many clients send with
    // every JSON POST, some pretty-printed or after a UTF-8 BOM) carries none, so nothing would be ignored. Anything
    // else does, and so does a body too long to read through (more than 64 KiB). The bound was 64 bytes: a blank body
    // of 65 spaces, or "{" and "}" on lines of their own with indentation between, was refused as options.
    private static async Task<bool> HasOptionsAsync(HttpContext context)
    {
        const int Limit = 64 * 1024;
        var length = context.Request.ContentLength;
        if (length is 0 || (length is null && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true))
        {
            return false;
        }

        if (length > Limit)
        {
            return true;
        }

        var buffer = new byte[Limit + 1];
        var total = 0;
        for (int read; total < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(total), context.RequestAborted)) > 0;)
        {
            total += read;
        }

        var text = string.Concat(Encoding.UTF8.GetString(buffer, 0, total).TrimStart('\uFEFF').Where(c => !char.IsWhiteSpace(c)));
        return total > Limit || text is not ("" or "{}");
    }

    private static ProblemHttpResult ShuttingDown(HttpContext context, int retryAfterSeconds, string jobId)
    {
        Problems.RetryAfter(context, retryAfterSeconds);
        return TypedResults.Problem(
            title: "Service shutting down",
            detail: $"The service is shutting down: training job {jobId} stops with it, before it finishes. Send it again (to another replica, or here once it is back).",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private const string SettingsHint = "A run uses the service's settings (Pipeline__Seed, Pipeline__Training__Mode, ...: the README's configuration table), which a restart changes; for one run with other settings, use the command line's train (e.g. train --mode gbdt --seed 7).";

    // An error as one sentence, ended with a full stop, before the explanation that follows it.
    private static string Sentence(string? text) =>
        (text ?? "The store did not answer").TrimEnd() is var trimmed && trimmed.EndsWith('.') ? trimmed : trimmed + ".";
}
