using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Training;

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
            .WithDescription("Queues a run of the training pipeline and returns 202 with the job and a Location to poll. If a run is already queued or running, returns that job instead of starting another. When the server has an API key configured (NETWORKSECURITY_API_KEY), send it in the X-Api-Key header.")
            .Produces<TrainingJobStatus>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        group.MapGet("/{id}", GetJob)
            .WithName("GetTrainingJob")
            .WithSummary("Status of a training job")
            .WithDescription("queued; running with its stage and progress (0–1); succeeded with the test metrics and whether the model was promoted; or failed with the error.");

        group.MapGet("", (TrainingJobQueue jobs) => TypedResults.Ok(jobs.Latest?.Status))
            .WithName("GetLatestTrainingJob")
            .WithSummary("The most recent training job (null if none)");
        return group;
    }

    public static Results<Accepted<TrainingJobStatus>, ProblemHttpResult> StartTraining(HttpContext context, TrainingJobQueue jobs, IOptions<ApiOptions> options, ILogger<TrainingJob> logger)
    {
        var key = options.Value.TrainApiKey;
        if (!string.IsNullOrEmpty(key) && !KeyMatches(context.Request.Headers[ApiKeyHeader].ToString(), key))
        {
            logger.LogWarning("POST /train refused: missing or wrong API key from {Remote}", context.Connection.RemoteIpAddress);
            return TypedResults.Problem(
                title: "API key required",
                detail: $"Send the server's API key in the {ApiKeyHeader} header to start training.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        var job = jobs.Enqueue("requested through POST /train", out var created);
        if (created)
        {
            logger.LogInformation("Training job {Job} queued", job.Id);
        }

        return TypedResults.Accepted($"/train/{job.Id}", job.Status);
    }

    public static Results<Ok<TrainingJobStatus>, ProblemHttpResult> GetJob(string id, TrainingJobQueue jobs) =>
        jobs.Find(id) is { } job
            ? TypedResults.Ok(job.Status)
            : TypedResults.Problem(title: "No such job", detail: $"No training job '{id}' (only the last 50 are kept).", statusCode: StatusCodes.Status404NotFound);

    // Constant time, so the key cannot be guessed byte by byte from response times.
    private static bool KeyMatches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
