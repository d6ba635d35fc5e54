using Microsoft.AspNetCore.Http.HttpResults;
using NetworkSecurity.Api.Models;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>GET /model: the live model's card (version, learner, parameters, metrics, ROC curve).</summary>
public static class ModelApi
{
    public static IEndpointRouteBuilder MapModelApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/model", GetModel)
            .WithName("GetModel")
            .WithTags("Model")
            .WithSummary("The live model's metadata and metrics")
            .WithDescription("Version, training time, learner and hyperparameters, cross-validation score, train and test metrics with each class as positive, test ROC curve.");
        return routes;
    }

    public const string ModelOriginHeader = "X-Model-Origin";

    public static Results<Ok<ModelCard>, ProblemHttpResult> GetModel(LiveModel live, ModelOrigin origins, HttpContext context)
    {
        if (live.Current is not { } bundle)
        {
            return TypedResults.Problem(title: "No model is ready yet", detail: "No model has been trained or loaded yet.", statusCode: StatusCodes.Status404NotFound);
        }

        // Which version is live and where it came from (trained here, synced from S3, local folder).
        context.Response.Headers[PredictionApi.ModelVersionHeader] = bundle.Version;
        context.Response.Headers[ModelOriginHeader] = origins.Describe(bundle.Version);
        return TypedResults.Ok(bundle.Card);
    }
}
