using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>The real app on an in-memory server, pointed at scratch folders, with no training at start-up unless asked.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public ApiFactory(string finalModelDirectory, string artifactsRoot, IDictionary<string, string?>? settings = null)
    {
        Settings = new Dictionary<string, string?>
        {
            ["Pipeline:DataPath"] = TestPaths.DataFile,
            ["Pipeline:SchemaPath"] = TestPaths.SchemaFile,
            ["Pipeline:FinalModelDirectory"] = finalModelDirectory,
            ["Pipeline:ArtifactsRoot"] = artifactsRoot,
            ["Pipeline:Training:Mode"] = "gbdt",
            ["Pipeline:Training:GridPath"] = TestPaths.GridFile,
            ["Api:TrainOnStartup"] = "false",
            ["Logging:Directory"] = "none",
            ["MLFLOW_TRACKING_URI"] = Path.Combine(artifactsRoot, "mlruns"),
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            Settings[key] = value;
        }
    }

    public Dictionary<string, string?> Settings { get; }

    /// <summary>
    /// A real Kestrel on 127.0.0.1 at a port it picks. The port goes through the urls setting: UseLoopbackKestrel() rewrote the
    /// server's addresses while the app, started on its own thread, could already be binding them, and failed now and
    /// then with "Addresses cannot be modified after the server has started" (dotnet/aspnetcore#67714).
    /// </summary>
    public void UseLoopbackKestrel()
    {
        Settings["urls"] = "http://127.0.0.1:0";
        UseKestrel();
    }

    /// <summary>
    /// Services to replace, for a factory on a real Kestrel: a factory derived by WithWebHostBuilder does not keep
    /// UseLoopbackKestrel.
    /// </summary>
    public Action<IServiceCollection>? TestServices { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        if (TestServices is { } services)
        {
            builder.ConfigureTestServices(services);
        }
    }
}

/// <summary>One model trained on the whole data set, shared by the tests that only read it.</summary>
public sealed class TrainedModelFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    public string FinalModelDirectory => Path.Combine(_dir.Path, "final_model");

    public string ArtifactsRoot => Path.Combine(_dir.Path, "Artifacts");

    public string Version { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var options = PipelineFactory.Options(_dir, TestPaths.DataFile);
        var result = await PipelineFactory.Create(options).RunAsync(null, CancellationToken.None);
        Version = result.PromotedVersion ?? throw new InvalidOperationException("The fixture model was not promoted.");
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    public ApiFactory CreateFactory(IDictionary<string, string?>? settings = null) => new(FinalModelDirectory, ArtifactsRoot, settings);
}

[CollectionDefinition(Name)]
public sealed class TrainedModelCollection : ICollectionFixture<TrainedModelFixture>
{
    public const string Name = "trained model";
}
