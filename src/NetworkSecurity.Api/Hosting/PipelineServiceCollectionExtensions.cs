using Microsoft.Extensions.Options;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;
using NetworkSecurity.MongoDb;
using NetworkSecurity.Storage;
using NetworkSecurity.Tracking;

namespace NetworkSecurity.Api.Hosting;

/// <summary>Registers the training pipeline and what it plugs into (data source, trainer, tracker, object store).</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>Api settings, bound, the API key taken from its variable, and validated at start (service and commands).</summary>
    /// <param name="uploadLimitsFitSchema">Also refuse CSV upload limits the schema's features cannot meet: the service only.
    /// The commands read files within their own limits (10,000 columns), so a 600-feature schema could not even be trained
    /// or scored by them with the default Api:MaxColumns of 512.</param>
    public static IServiceCollection AddApiOptions(this IServiceCollection services, IConfiguration configuration, bool uploadLimitsFitSchema = true)
    {
        services.AddOptions<ApiOptions>()
            .Bind(configuration.GetSection(ApiOptions.SectionName))
            // Through configuration, not the process environment only: --NETWORKSECURITY_API_KEY=... on the command line counts too.
            .PostConfigure(api => api.TrainApiKey = string.IsNullOrEmpty(api.TrainApiKey) ? configuration[ApiOptions.ApiKeyVariable] : api.TrainApiKey)
            .Validate(api => api.TrainApiKey is not { Length: > 0 } key || key.Trim().Length == key.Length,
                $"{ApiOptions.ApiKeyVariable} (Api:TrainApiKey) is blank or has spaces around it: no client could send it as it is. Give the key without surrounding spaces, or leave it empty for no key.")
            // A browser sends header values as ISO-8859-1 or not at all: the page's Retrain button sent 'é' as a byte that
            // is not UTF-8 (Kestrel's bare 400) and did not send 'ключ' (fetch threw), while curl's UTF-8 worked.
            .Validate(api => api.TrainApiKey is not { Length: > 0 } key || !key.AsSpan().ContainsAnyExceptInRange(' ', '~'),
                $"{ApiOptions.ApiKeyVariable} (Api:TrainApiKey) holds a character outside printable ASCII (a letter such as 'é', or a control character): the home page's Retrain button could not send it. Use letters, digits and punctuation of ASCII only.")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (uploadLimitsFitSchema)
        {
            services.AddSingleton<IValidateOptions<ApiOptions>>(new CsvLimitsValidator(configuration));
        }

        return services;
    }

    public static IServiceCollection AddTrainingPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>()
            .Bind(configuration.GetSection(PipelineOptions.SectionName))
            .ValidateDataAnnotations()
            // Blank counts as unset (MLFLOW_EXPERIMENT_NAME="   " made an experiment of that name); names are trimmed.
            .PostConfigure<IConfiguration>((o, configuration) => o.ExperimentName = configuration["MLFLOW_EXPERIMENT_NAME"] is { } name && !string.IsNullOrWhiteSpace(name) ? name.Trim() : o.ExperimentName)
            .PostConfigure(o => o.ResolveBundledFiles())
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PipelineOptions>, TrainingOptionsValidator>();
        services.AddSingleton<IValidateOptions<PipelineOptions>>(new ExternalServicesValidator(configuration));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PipelineOptions>>().Value);
        services.AddSingleton(TimeProvider.System);

        services.AddSingleton<IDataSource>(sp =>
        {
            var options = sp.GetRequiredService<PipelineOptions>();
            return options.DataSource switch
            {
                "mongodb" => new MongoDataSource(MongoOptions.FromEnvironment(key => configuration[key])
                    ?? throw new PipelineException("Pipeline:DataSource is 'mongodb' but MONGODB_URL (or MONGO_DB_URL) is not set."),
                    MongoDataSource.FieldsOf(Pipeline.Schema.SchemaLoader.Load(options.SchemaPath)),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger<MongoDataSource>(), options.TrainingRecordLimit()),
                _ => new CsvDataSource(options.DataPath, options.TrainingRecordLimit()),
            };
        });
        services.AddSingleton<IModelTrainer>(sp =>
        {
            var options = sp.GetRequiredService<PipelineOptions>();
            return options.Training.Mode == "gbdt"
                ? new GradientBoostingTrainer(options.Seed, options.HasNoHoldout ? options.Training.CrossValidationFolds : 0)
                : new GridSearchTrainer(options.Training.GridPath, options.Training.CrossValidationFolds, options.Training.Scoring, options.Seed, options.Training.Learners, options.Training.DropMargin);
        });
        // MLflow: the file store under ./mlruns by default, a path or file: URI, or a tracking server (http/https).
        services.AddSingleton<IExperimentTracker>(sp =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            return Setting.TryParseSwitch(configuration["Tracking:Enabled"], out var enabled) && !enabled
                ? new NoExperimentTracker()
                : MlflowTrackerFactory.Create(MlflowOptions.FromEnvironment(key => configuration[key]), sp.GetRequiredService<ILoggerFactory>().CreateLogger("NetworkSecurity.Tracking"));
        });
        // S3 (or an S3-compatible store) when S3_BUCKET is set; otherwise artifacts stay local.
        services.AddSingleton<IArtifactStore>(sp =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            return S3Options.FromEnvironment(key => configuration[key]) is { } s3
                ? new S3ArtifactStore(s3, sp.GetRequiredService<ILoggerFactory>().CreateLogger<S3ArtifactStore>())
                : new NoArtifactStore();
        });
        services.AddTransient<TrainingPipeline>();
        return services;
    }
}
