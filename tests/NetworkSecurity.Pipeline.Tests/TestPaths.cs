namespace NetworkSecurity.Pipeline.Tests;

/// <summary>Locates the repository (the folder holding NetworkSecurity.sln) and makes scratch folders.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string DataFile => Path.Combine(RepositoryRoot, "Network_Data", "phisingData.csv");

    public static string SchemaFile => Path.Combine(RepositoryRoot, "data_schema", "schema.yaml");

    public static string GridFile => Path.Combine(RepositoryRoot, "data_schema", "model_grid.yaml");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NetworkSecurity.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NetworkSecurity.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A scratch folder deleted at the end of the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ns-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, string contents)
    {
        var path = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllText(path, contents);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
