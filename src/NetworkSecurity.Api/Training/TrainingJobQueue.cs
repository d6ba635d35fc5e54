using System.Threading.Channels;

namespace NetworkSecurity.Api.Training;

/// <summary>
/// Training requests, consumed by <see cref="TrainingWorker"/> through a bounded channel. At most one job is queued or
/// running: asking again returns that job instead of starting another.
/// </summary>
public sealed class TrainingJobQueue
{
    public const int JobsKept = 50;
    private readonly Channel<TrainingJob> _channel = Channel.CreateBounded<TrainingJob>(new BoundedChannelOptions(4)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Lock _gate = new();
    private readonly LinkedList<TrainingJob> _jobs = new();

    public ChannelReader<TrainingJob> Reader => _channel.Reader;

    /// <summary>Queues <paramref name="job"/> (the caller checked that none is active and took the training lease).</summary>
    public void Add(TrainingJob job)
    {
        lock (_gate)
        {
            if (!_channel.Writer.TryWrite(job))
            {
                throw new InvalidOperationException("The training queue is full.");
            }

            _jobs.AddFirst(job);
            while (_jobs.Count > JobsKept)
            {
                _jobs.RemoveLast();
            }
        }
    }

    /// <summary>The job queued or running, if any.</summary>
    public TrainingJob? Active
    {
        get
        {
            lock (_gate)
            {
                return _jobs.FirstOrDefault(j => j.IsActive);
            }
        }
    }

    /// <summary>The jobs kept, newest first.</summary>
    public IReadOnlyList<TrainingJob> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _jobs];
            }
        }
    }

    public TrainingJob? Find(string id)
    {
        lock (_gate)
        {
            return _jobs.FirstOrDefault(j => j.Id == id);
        }
    }

    public TrainingJob? Latest
    {
        get
        {
            lock (_gate)
            {
                return _jobs.First?.Value;
            }
        }
    }
}
