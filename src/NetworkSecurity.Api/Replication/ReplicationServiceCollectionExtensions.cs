using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetworkSecurity.Api.Training;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Storage;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Api.Replication;

/// <summary>Model sync, background publication and the training lease of the web host.</summary>
public static class ReplicationServiceCollectionExtensions
{
    public static IServiceCollection AddModelReplication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReplicationOptions>()
            .Bind(configuration.GetSection(ReplicationOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(sp => new SharedStorage(S3Options.FromEnvironment(key => sp.GetRequiredService<IConfiguration>()[key])));
        services.AddSingleton<ITrainingLease>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ReplicationOptions>>().Value;
            return sp.GetRequiredService<SharedStorage>().S3 is { } s3
                ? new S3TrainingLease(s3, options.LeaseSettings, options.ResolvedReplicaId, sp.GetRequiredService<ILoggerFactory>().CreateLogger<S3TrainingLease>())
                : new LocalTrainingLease(options.ResolvedReplicaId, sp.GetRequiredService<TimeProvider>());
        });
        // Runs, and so model versions, are named on the store's clock when replicas share one: versions are compared by
        // name ("never backwards"), and a replica whose clock ran minutes behind named a newer model older than LATEST.
        services.Replace(ServiceDescriptor.Transient(sp => ActivatorUtilities.CreateInstance<TrainingPipeline>(sp,
            sp.GetRequiredService<ITrainingLease>() is S3TrainingLease shared ? shared.Clock.AsTimeProvider() : sp.GetRequiredService<TimeProvider>())));
        services.AddSingleton<ModelOrigin>();
        services.AddSingleton<StoreLatest>();
        services.AddSingleton<ModelFolderGate>();
        services.AddSingleton<TrainingCoordinator>();

        // The pipeline publishes through this store: it queues the upload and returns at once (see BackgroundPublisher).
        services.AddSingleton(sp =>
        {
            IArtifactStore inner = sp.GetRequiredService<SharedStorage>().S3 is { } s3
                ? new S3ArtifactStore(s3, sp.GetRequiredService<ILoggerFactory>().CreateLogger<S3ArtifactStore>(), version => sp.GetRequiredService<StoreLatest>().Current?.UnusableReason(version))
                : new NoArtifactStore();
            return new BackgroundPublisher(inner, sp.GetRequiredService<IOptions<ReplicationOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<BackgroundPublisher>>());
        });
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<BackgroundPublisher>() is { IsConfigured: true } publisher
            ? publisher
            : sp.GetRequiredService<BackgroundPublisher>().Inner); // the pipeline recognises "no object storage" by its type
        services.AddHostedService(sp => sp.GetRequiredService<BackgroundPublisher>());
        services.AddHostedService<ModelSyncService>();
        services.AddHostedService<NetworkSecurity.Api.Models.ModelFolderWatcher>();
        return services;
    }
}
