namespace NetworkSecurity.Pipeline.DataSources;

/// <summary>
/// The most records a source may hand to training, and where that number comes from (said in the refusal). Sources
/// check it while they read, so a data set too large for the machine is refused with a message naming it and the limit,
/// instead of filling the memory until the system kills the process.
/// </summary>
public sealed record RecordLimit(int MaxRecords, string Why)
{
    public static RecordLimit None { get; } = new(int.MaxValue, "");

    /// <summary>The refusal: <paramref name="source"/> (and where in it reading stopped) holds more than the limit.</summary>
    public PipelineException Refuse(string source, string found) =>
        new($"{source}: {found}, more than {MaxRecords:N0} records ({Why}). Train on a sample of the rows, or raise Pipeline:MaxTrainingRows (--Pipeline:MaxTrainingRows=N) on a machine with the memory for them.");
}
