namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// Where the ingestion stage reads the network data from (CSV file, MongoDB collection, ...).
/// Sources return text cells; the validation stage maps columns through the schema and parses values.
/// </summary>
public interface IDataSource
{
    /// <summary>Human-readable name used in messages, e.g. the file path or "mongodb://host/db.collection".</summary>
    string Description { get; }

    Task<RawTable> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>A table of text cells as read from a source. A null cell is a missing value.</summary>
/// <param name="Positional">True when columns have positions a reader can count (a CSV header on line 1), so problems
/// name the column number; false for documents, whose fields are known by name only (MongoDB), where a position
/// would only be the order in which fields were first seen across the collection.</param>
/// <param name="HeaderLine">The line of a CSV's header: 1, or later after blank lines, which the reader skips.</param>
public sealed record RawTable(string Source, IReadOnlyList<string> Columns, IReadOnlyList<RawRecord> Records, bool Positional = true, int HeaderLine = 1);

/// <summary>
/// One record with its location in the source ("line 12" for a CSV, "_id 65a..." for a document).
/// <paramref name="Values"/> is aligned with <see cref="RawTable.Columns"/>, unless <paramref name="Problem"/> says why
/// the record could not be read as the header's columns (a CSV line with another number of fields): such a record is
/// invalid as a whole, its values are the fields as written.
/// </summary>
public sealed record RawRecord(string Location, string?[] Values, string? Problem = null);
