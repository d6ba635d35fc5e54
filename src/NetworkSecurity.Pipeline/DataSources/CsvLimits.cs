namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Size limits checked while a CSV is read, before anything is kept: an upload of one huge header, line or cell is
/// refused after that many characters instead of being buffered whole. <see cref="None"/> for trusted files.
/// </summary>
public sealed record CsvLimits(int MaxColumns, int MaxHeaderLength, int MaxLineLength, int MaxCellLength)
{
    public static CsvLimits None { get; } = new(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue);
}

/// <summary>An input crosses a configured size limit (columns, header/line/cell length, records).</summary>
public sealed class InputLimitException(string message) : Exception(message);
