using ClusterContext.Protocol;

namespace ClusterContext.Session;

/// <summary>
/// Runs agent operations for hooks, which are synchronous: each waits at most the configured timeout, and a lost
/// session is an <see cref="IOException"/> that says so; never a hang.
/// </summary>
internal sealed class RemoteCalls(AgentClient agent, TimeSpan timeout, string agentName)
{
    public AgentClient Agent { get; } = agent;

    public T Run<T>(Func<CancellationToken, Task<T>> operation, string what)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            var task = Task.Run(() => operation(cancellation.Token), cancellation.Token);
            return task.Wait(timeout) ? task.GetAwaiter().GetResult()
                : throw new IOException($"{what} through the ClusterContext agent at {agentName} took longer than {timeout.TotalSeconds:0.#} s; is the agent still running?");
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

    private Exception Translate(Exception error, string what) => error switch
    {
        SessionLostException lost => new IOException($"{what} failed: the session with the ClusterContext agent at {agentName} was lost ({lost.Message}).", lost),
        OperationCanceledException => new IOException($"{what} through the ClusterContext agent at {agentName} took longer than {timeout.TotalSeconds:0.#} s; is the agent still running?", error),
        _ => error,
    };
}
