namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>
/// A send window (RFC 9113 section 5.2): bytes the peer lets us send. It may go negative when the peer lowers its
/// initial window size; senders wait until it is positive again.
/// </summary>
internal sealed class FlowWindow(long initial)
{
    private readonly Lock _gate = new();
    private long _available = initial;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    public void Adjust(long delta)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _available += delta;
            if (_available > 0)
            {
                wake = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        wake?.TrySetResult();
    }

    /// <summary>Takes between 1 and <paramref name="max"/> bytes of window, waiting while there is none.</summary>
    public async ValueTask<int> TakeAsync(int max, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_available > 0)
                {
                    var taken = (int)Math.Min(max, _available);
                    _available -= taken;
                    return taken;
                }

                wait = _changed.Task;
            }

            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }
}
