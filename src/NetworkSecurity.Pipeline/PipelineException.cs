namespace NetworkSecurity.Pipeline;

/// <summary>
/// A failure the user can act on (bad input, bad configuration). Its message is complete and safe to show;
/// the CLI prints it without a stack trace and exits non-zero, the API turns it into ProblemDetails.
/// </summary>
public sealed class PipelineException : Exception
{
    public PipelineException(string message)
        : base(message)
    {
    }

    public PipelineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PipelineException(string message, IReadOnlyList<DataProblem> problems)
        : base(message)
    {
        Problems = problems;
    }

    /// <summary>A failure about one located problem: its message is the problem with its place.</summary>
    public static PipelineException At(DataProblem problem) => new(problem.ToString(), [problem]);

    /// <summary>Individual problems (file, line, column, field), when the failure is about data.</summary>
    public IReadOnlyList<DataProblem> Problems { get; } = [];
}
