namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Size limits checked while a CSV is read, before anything is kept: an upload of one huge header, line or cell is
/// refused after that many characters instead of being buffered whole. <see cref="None"/> for trusted files.
/// </summary>
public sealed record CsvLimits(int MaxColumns, int MaxHeaderLength, int MaxLineLength, int MaxCellLength)
{
    public static CsvLimits None { get; } = new(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue);

    /// <summary>
    /// Bounds for data files read from disk (training, evaluate, push-data, the CLI's predict): far beyond any real file
    /// of website records (31 short columns), but a header of 50 MB of commas no longer takes gigabytes, nor does an
    /// endless line.
    /// </summary>
    public static CsvLimits Files { get; } = new(MaxColumns: 10_000, MaxHeaderLength: 1 << 20, MaxLineLength: 1 << 20, MaxCellLength: 1 << 16);
}

/// <summary>An input crosses a configured size limit (columns, header/line/cell length, records).</summary>
public sealed class InputLimitException(string message) : Exception(message);
