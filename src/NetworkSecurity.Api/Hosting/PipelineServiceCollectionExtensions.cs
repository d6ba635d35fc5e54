using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Registers the training pipeline and what it plugs into (data source, trainer, tracker, object store).</summary>
public static class PipelineServiceCollectionExtensions
{
    public static IServiceCollection AddTrainingPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>()
            .Bind(configuration.GetSection(PipelineOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(o => o.Training is not null, "Pipeline:Training is required.")
            .PostConfigure<IConfiguration>((o, configuration) => o.ExperimentName = configuration["MLFLOW_EXPERIMENT_NAME"] is { Length: > 0 } name ? name : o.ExperimentName)
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PipelineOptions>>().Value);
        services.AddSingleton(TimeProvider.System);

        services.AddSingleton<IDataSource>(sp =>
        {
            var options = sp.GetRequiredService<PipelineOptions>();
            return options.DataSource switch
            {
                "csv" => new CsvDataSource(options.DataPath),
                _ => throw new PipelineException($"Data source '{options.DataSource}' is not available in this build."),
            };
        });
        services.AddSingleton<IModelTrainer>(sp =>
        {
            var options = sp.GetRequiredService<PipelineOptions>();
            return options.Training.Mode == "gbdt"
                ? new GradientBoostingTrainer(options.Seed)
                : new GridSearchTrainer(options.Training.GridPath, options.Training.CrossValidationFolds, options.Training.Scoring, options.Seed);
        });
        // MLflow: the file store under ./mlruns by default, or wherever MLFLOW_TRACKING_URI points.
        services.AddSingleton<IExperimentTracker>(sp => sp.GetRequiredService<IConfiguration>()["Tracking:Enabled"] is "false"
            ? new NoExperimentTracker()
            : MlflowFileStoreTracker.FromTrackingUri(sp.GetRequiredService<IConfiguration>()["MLFLOW_TRACKING_URI"]));
        services.AddSingleton<IArtifactStore, NoArtifactStore>();
        services.AddTransient<TrainingPipeline>();
        return services;
    }
}
