using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>GET /model: the live model's card (version, learner, parameters, metrics, ROC curve) and why it is the one served.</summary>
public static class ModelApi
{
    public static IEndpointRouteBuilder MapModelApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/model", GetModel)
            .WithName("GetModel")
            .WithTags("Model")
            .WithSummary("The live model's metadata and metrics")
            .WithDescription("Version, training time, learner and hyperparameters, cross-validation score, train and test metrics with each class as positive, test ROC curve; 'serving' says why this version is live (e.g. a fallback because the newer one failed its integrity check).")
            .Produces<ModelCard>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public const string ModelOriginHeader = "X-Model-Origin";

    public static Results<Ok<JsonObject>, ProblemHttpResult> GetModel(LiveModel live, ModelOrigin origins, StoreLatest latest, HttpContext context, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        if (PredictionApi.CurrentModel(context, live) is not { } bundle)
        {
            return TypedResults.Problem(title: "No model is ready yet", detail: $"No model has been trained or loaded yet ({live.Status.Reason}).", statusCode: StatusCodes.Status404NotFound);
        }

        // Where the live model came from (trained here, synced from S3, local folder); its version is in X-Model-Version.
        context.Response.Headers[ModelOriginHeader] = HeaderText.Encode(origins.Describe(bundle.Version));
        var options = json.Value.SerializerOptions;
        var card = JsonSerializer.SerializeToNode(bundle.Card, options)!.AsObject();
        var status = live.Status;
        card["serving"] = JsonSerializer.SerializeToNode(
            new ServingInfo(bundle.Version, status.Version == bundle.Version ? status.Reason : "loaded", status.IsFallback, [.. status.Skipped], latest.Current), options);
        return TypedResults.Ok(card);
    }

    /// <summary>Which version is live and why (the 'serving' member of GET /model); with object storage, what its LATEST names and why that is not served.</summary>
    public sealed record ServingInfo(string Version, string Reason, bool Fallback, SkippedVersion[] Skipped, LatestInStore? StoreLatest);
}
