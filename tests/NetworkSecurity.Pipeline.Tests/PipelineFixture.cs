using Microsoft.Extensions.Logging.Abstractions;
using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Tracking;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>Builds pipelines that write into a scratch folder.</summary>
public static class PipelineFactory
{
    public static PipelineOptions Options(TempDirectory dir, string dataPath) => new()
    {
        DataPath = dataPath,
        SchemaPath = TestPaths.SchemaFile,
        ArtifactsRoot = Path.Combine(dir.Path, "Artifacts"),
        FinalModelDirectory = Path.Combine(dir.Path, "final_model"),
        Training = new TrainingOptions { Mode = "gbdt", GridPath = TestPaths.GridFile },
    };

    public static TrainingPipeline Create(PipelineOptions options, IModelTrainer? trainer = null) =>
        new(options, new CsvDataSource(options.DataPath), trainer ?? new GradientBoostingTrainer(options.Seed),
            new NoExperimentTracker(), new NoArtifactStore(), NullLoggerFactory.Instance);

    /// <summary>The first <paramref name="rows"/> records of the bundled data set, as a CSV file.</summary>
    public static string Sample(TempDirectory dir, int rows, string name = "sample.csv")
    {
        var lines = File.ReadLines(TestPaths.DataFile).Take(rows + 1);
        var path = Path.Combine(dir.Path, name);
        File.WriteAllLines(path, lines);
        return path;
    }
}
