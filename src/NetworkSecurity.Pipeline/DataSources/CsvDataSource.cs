namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// The default data source: a CSV file on disk (Network_Data/phisingData.csv), of at most <paramref name="limit"/>
/// records (none by default).
/// </summary>
public sealed class CsvDataSource(string path, RecordLimit? limit = null) : IDataSource
{
    public string Description => path;

    public Task<RawTable> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(CsvTableReader.ReadFile(path, cancellationToken, limit));
}
