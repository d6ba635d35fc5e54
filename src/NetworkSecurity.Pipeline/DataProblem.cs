namespace NetworkSecurity.Pipeline;

/// <summary>
/// One problem in input data, located as precisely as the source allows:
/// e.g. source "Network_Data/x.csv", location "line 12", column 5, field "URL_Length".
/// </summary>
public sealed record DataProblem(string Source, string Location, int? Column, string? Field, string Message)
{
    public override string ToString()
    {
        var where = Column is null ? Location : $"{Location}, column {Column}";
        var field = Field is null ? "" : $" ({Field})";
        return $"{Source}, {where}{field}: {Message}";
    }
}
