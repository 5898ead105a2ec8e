using ClusterContext.Protocol;

namespace ClusterContext.Session;

/// <summary>
/// Runs agent operations for hooks, which are synchronous: each waits at most the configured timeout, and a lost
/// session is an <see cref="IOException"/> that says so; never a hang.
/// </summary>
internal sealed class RemoteCalls
{
    private readonly TimeSpan _timeout;
    private readonly string _agentName;
    private volatile Exception? _lost;

    public RemoteCalls(AgentClient agent, TimeSpan timeout, string agentName)
    {
        Agent = agent;
        _timeout = timeout;
        _agentName = agentName;
        _ = agent.Completion.ContinueWith(
            t => _lost = t.Exception?.InnerException ?? new SessionLostException("the agent closed the connection"), TaskScheduler.Default);
    }

    public AgentClient Agent { get; }

    /// <summary>Fails at once, as every remote operation would, once the session has ended.</summary>
    public void ThrowIfLost(string what)
    {
        if (_lost is { } lost)
        {
            throw LostError(what, lost);
        }
    }

    public T Run<T>(Func<CancellationToken, Task<T>> operation, string what)
    {
        ThrowIfLost(what);
        using var cancellation = new CancellationTokenSource(_timeout);
        try
        {
            var task = Task.Run(() => operation(cancellation.Token), cancellation.Token);
            return task.Wait(_timeout) ? task.GetAwaiter().GetResult()
                : throw new IOException($"{what} through the ClusterContext agent at {_agentName} took longer than {_timeout.TotalSeconds:0.#} s; is the agent still running?");
        }
        catch (AggregateException ex) when (ex.InnerException is not null)
        {
            throw Translate(ex.InnerException, what);
        }
        catch (Exception ex) when (ex is SessionLostException or OperationCanceledException)
        {
            throw Translate(ex, what);
        }
    }

    private IOException LostError(string what, Exception lost) =>
        new($"{what} failed: the session with the ClusterContext agent at {_agentName} was lost ({lost.Message}).", lost);

    private Exception Translate(Exception error, string what) => error switch
    {
        SessionLostException lost => LostError(what, lost),
        OperationCanceledException => new IOException($"{what} through the ClusterContext agent at {_agentName} took longer than {_timeout.TotalSeconds:0.#} s; is the agent still running?", error),
        _ => error,
    };
}
