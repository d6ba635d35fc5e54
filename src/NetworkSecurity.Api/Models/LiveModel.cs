using NetworkSecurity.Pipeline.Configuration;
using NetworkSecurity.Pipeline.Schema;
using NetworkSecurity.Pipeline.Training;

namespace NetworkSecurity.Api.Models;

/// <summary>
/// The model the API serves. Swapped atomically: a request takes <see cref="Current"/> once and finishes on that
/// bundle even if a newer one is swapped in meanwhile; later requests see the new one.
/// </summary>
public sealed class LiveModel(PipelineOptions options, DataSchema schema, ILogger<LiveModel> logger)
{
    private ModelBundle? _current;

    public ModelBundle? Current => Volatile.Read(ref _current);

    public DataSchema Schema => schema;

    public ModelStore Store { get; } = new(options.FinalModelDirectory);

    /// <summary>Loads the version that final_model/CURRENT names; keeps the served model if loading fails.</summary>
    public bool TryReload()
    {
        try
        {
            var bundle = Store.LoadCurrent(schema);
            if (bundle is null)
            {
                return false;
            }

            var previous = Interlocked.Exchange(ref _current, bundle);
            if (previous?.Version != bundle.Version)
            {
                logger.LogInformation("Serving model {Version} ({Learner}, test F1 {F1:0.0000})", bundle.Version, bundle.Card.Learner, bundle.Card.Test.Legitimate.F1);
            }

            return true;
        }
        catch (NetworkSecurity.Pipeline.PipelineException ex)
        {
            logger.LogError("Could not load the model in {Directory}: {Error}", Store.Directory, ex.Message);
            return false;
        }
    }

    /// <summary>Serves <paramref name="bundle"/> from now on (used by tests and by the training worker).</summary>
    public void Swap(ModelBundle bundle) => Interlocked.Exchange(ref _current, bundle);
}
