using Microsoft.AspNetCore.Http.HttpResults;
using NetworkSecurity.Pipeline.Prediction;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Endpoints;

/// <summary>
/// The <c>explain</c> query option of POST /predict and POST /predict/json: <c>?explain=3</c> (top 3 features per
/// record) or <c>?explain=all</c>. Absent: no explanations and no extra work. A bad value, or a model that cannot
/// explain, is the caller's 400, never a 500 and never made-up numbers.
/// </summary>
public static class ExplainQuery
{
    public const string Name = "explain";

    /// <summary>Null when the request is fine; <paramref name="top"/> is 0 when no explanation was asked for.</summary>
    public static ProblemHttpResult? Read(HttpRequest request, ModelBundle bundle, out int top, out VerdictExplainer? explainer)
    {
        top = 0;
        explainer = null;
        if (!request.Query.TryGetValue(Name, out var values))
        {
            return null;
        }

        var error = $"Give explain once: a whole number from 1 to {bundle.FeatureNames.Count} or '{ExplainOption.All}'.";
        if (values.Count != 1 || !ExplainOption.TryParse(values[0], bundle.FeatureNames.Count, out top, out error))
        {
            return TypedResults.Problem(title: "Invalid explain option", detail: error, statusCode: StatusCodes.Status400BadRequest);
        }

        explainer = VerdictExplainer.TryCreate(bundle, out var reason);
        if (explainer is null)
        {
            top = 0;
            return TypedResults.Problem(
                title: "Explanations are not available for this model",
                detail: $"Model {bundle.Version} cannot explain its verdicts: {reason}. Ask again without '{Name}'.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        return null;
    }
}
