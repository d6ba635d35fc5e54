using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Storage;
using NetworkSecurity.Tracking;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Checks the settings of the services a training run plugs into (MLflow, S3, MongoDB) when the pipeline's options are first
/// read, which is at start for the service: a malformed URL or number is refused before anything runs, instead of
/// failing every training job later with an unexpected error.
/// </summary>
public sealed class ExternalServicesValidator(IConfiguration configuration) : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        var failures = new List<string>();
        var mlflow = Check(() => MlflowOptions.FromEnvironment(key => configuration[key]), failures);
        if (mlflow is not null && FileStoreInModelFolder(mlflow, options) is { } inside)
        {
            failures.Add(inside);
        }

        Check(() => S3Options.FromEnvironment(key => configuration[key]), failures);
        var mongo = Check(() => MongoDb.MongoOptions.FromEnvironment(key => configuration[key]), failures);
        if (configuration["Tracking:Enabled"] is { } tracking && !Setting.TryParseSwitch(tracking, out _))
        {
            failures.Add($"Tracking:Enabled '{tracking}' is not {Setting.SwitchWords}.");
        }

        if (failures.Count == 0 && options.DataSource == "mongodb" && mongo is null)
        {
            // Said at start: every training run would fail on it.
            failures.Add("Pipeline:DataSource (--source) is 'mongodb' but MONGODB_URL (or MONGO_DB_URL) is not set.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// Why the MLflow file store cannot be where MLFLOW_TRACKING_URI puts it, or null: a store inside the final model
    /// folder wrote its experiment folders and lock file into a model version, which then failed its manifest check
    /// (the fallback version the service would serve, or the live one).
    /// </summary>
    private string? FileStoreInModelFolder(MlflowOptions mlflow, PipelineOptions options)
    {
        var uri = mlflow.TrackingUri;
        var off = configuration["Tracking:Enabled"] is { } enabled && Setting.TryParseSwitch(enabled, out var on) && !on;
        if (off || mlflow.IsServer)
        {
            return null;
        }

        var store = string.IsNullOrWhiteSpace(uri) ? "mlruns"
            : uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? MlflowOptions.FileStorePath(uri, out _)
            : uri;
        return store is not null && Pipeline.Artifacts.SafeFile.LeadsInto(store, options.FinalModelDirectory)
            ? $"MLFLOW_TRACKING_URI '{uri ?? "mlruns"}' puts the MLflow file store inside the final model folder '{options.FinalModelDirectory}', which holds the live model: its files would break the model versions' manifests. Put the store elsewhere."
            : null;
    }

    // The settings read, or null (with why in failures) when they cannot be used.
    private static T? Check<T>(Func<T?> read, List<string> failures)
        where T : class
    {
        try
        {
            return read();
        }
        catch (ArgumentException ex)
        {
            failures.Add(ex.Message);
            return null;
        }
    }
}
