using ClusterContext.Diagnostics;
using ClusterContext.Hooks;
using ClusterContext.Protocol;

namespace ClusterContext.Session;

/// <summary>
/// Runs agent operations for hooks, which are synchronous: each waits at most the configured timeout, and a lost
/// session is an <see cref="IOException"/> that says so; never a hang. When the session is lost and a way to
/// reconnect was given, a new session is set up in the background (one attempt at a time; after a failed one, the next
/// operation starts another once <c>retryAfter</c> has passed); operations meanwhile wait for it, within their timeout.
/// </summary>
internal sealed class RemoteCalls
{
    private readonly TimeSpan _retryAfter;
    private readonly TimeSpan _timeout;
    private readonly string _agentName;
    private readonly Func<CancellationToken, Task<AgentClient>>? _reconnect;
    private readonly Action<string>? _report;
    private readonly Lock _gate = new();
    private volatile AgentClient? _agent;
    private volatile Exception? _lost;
    private volatile bool _opening;
    private Task? _reconnecting;
    private long _lastAttempt;
    private bool _closed;

    public RemoteCalls(AgentClient agent, TimeSpan timeout, string agentName, Func<CancellationToken, Task<AgentClient>>? reconnect = null, Action<string>? report = null, TimeSpan retryAfter = default)
        : this(timeout, agentName, reconnect, report, retryAfter)
    {
        _agent = agent;
        Follow(agent);
    }

    /// <summary>
    /// Calls whose first session is still being opened (<paramref name="opening"/>): operations meanwhile wait for it,
    /// within their timeout, as they wait for a reconnection; should it fail, it is lost as a session is, and a
    /// reconnection starts at once.
    /// </summary>
    public RemoteCalls(Task<AgentClient> opening, TimeSpan timeout, string agentName, Func<CancellationToken, Task<AgentClient>>? reconnect = null, Action<string>? report = null, TimeSpan retryAfter = default)
        : this(timeout, agentName, reconnect, report, retryAfter)
    {
        _opening = true;
        _lost = new SessionLostException("the session with the agent is still being opened");
        lock (_gate)
        {
            _reconnecting = OpenFirstAsync(opening); // not counted as a reconnection: a session lost soon after is reopened at once
        }
    }

    private RemoteCalls(TimeSpan timeout, string agentName, Func<CancellationToken, Task<AgentClient>>? reconnect, Action<string>? report, TimeSpan retryAfter)
    {
        (_timeout, _agentName, _reconnect, _report, _retryAfter) = (timeout, agentName, reconnect, report, retryAfter);
    }

    /// <summary>The agent of the current session (a new one after a reconnection); while the first is being opened, a <see cref="SessionLostException"/>.</summary>
    public AgentClient Agent => _agent ?? throw new SessionLostException("the session with the agent is still being opened");

    /// <summary>The agent of the current session, or null while the first is being opened.</summary>
    public AgentClient? CurrentAgent => _agent;

    /// <summary>The first session, when it is being opened in the background: done once it is open (or failed).</summary>
    public Task Opened => _opening && _reconnecting is { } opening ? opening : Task.CompletedTask;

    /// <summary>Raised after a lost session was replaced by a new one (on a background thread).</summary>
    public event Action? Reconnected;

    /// <summary>Raised when the session with the agent is lost, before any reconnection (on a background thread).</summary>
    public event Action<Exception>? Lost;

    /// <summary>The session with the agent is lost and not (yet) replaced (a first session still being opened is not lost).</summary>
    public bool IsLost => _lost is not null && !_opening;

    /// <summary>Stops reconnecting: the session is being ended on purpose.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }
    }

    /// <summary>Fails at once, as every remote operation would, once the session has ended (after waiting for a reconnection under way).</summary>
    public void ThrowIfLost(string what)
    {
        if (_lost is null)
        {
            return;
        }

        if (StartReconnecting() is { } reconnecting && !HookBypass.Active)
        {
            reconnecting.Wait(_timeout);
        }

        if (_lost is { } lost)
        {
            throw LostError(what, lost);
        }
    }

    public T Run<T>(Func<CancellationToken, Task<T>> operation, string what)
    {
        var kind = ClusterContextTelemetry.OperationKind(what);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var activity = ClusterContextTelemetry.StartOperation(kind, what);
        try
        {
            var result = RunCore(operation, what);
            ClusterContextTelemetry.OperationDone(kind, started, null, activity);
            return result;
        }
        catch (Exception ex)
        {
            ClusterContextTelemetry.OperationDone(kind, started, ex, activity);
            throw;
        }
    }

    private T RunCore<T>(Func<CancellationToken, Task<T>> operation, string what)
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

    private void Follow(AgentClient agent) =>
        _ = agent.Completion.ContinueWith(
            t => OnLost(agent, t.Exception?.InnerException ?? new SessionLostException("the agent closed the connection")), TaskScheduler.Default);

    private void OnLost(AgentClient agent, Exception reason)
    {
        lock (_gate)
        {
            if (agent != _agent || _closed)
            {
                return;
            }

            _lost = reason;
        }

        Lost?.Invoke(reason);
        if (_reconnect is not null)
        {
            _report?.Invoke($"The session with the agent at {_agentName} was lost ({reason.Message}); reconnecting.");
            StartReconnecting();
        }
    }

    /// <summary>The reconnection under way, or a new one if the last ended long enough ago; null when there is none to wait for.</summary>
    private Task? StartReconnecting()
    {
        lock (_gate)
        {
            if (_opening && _reconnecting is { } opening)
            {
                return opening; // the first session, opened in the background
            }

            if (_reconnect is null || _closed || _lost is null)
            {
                return null;
            }

            if (_reconnecting is null && TimeSpan.FromMilliseconds(Environment.TickCount64 - _lastAttempt) >= _retryAfter)
            {
                _lastAttempt = Environment.TickCount64;
                _reconnecting = ReconnectAsync();
            }

            return _reconnecting;
        }
    }

    private async Task ReconnectAsync()
    {
        await Task.Yield();
        Task<AgentClient> connecting;
        using (HookBypass.Enter())
        {
            connecting = _reconnect!(CancellationToken.None);
        }

        await AdoptAsync(connecting).ConfigureAwait(false);
    }

    private async Task OpenFirstAsync(Task<AgentClient> opening)
    {
        await Task.Yield(); // past the assignment of the task to _reconnecting, which its end clears under the gate
        await AdoptAsync(opening).ConfigureAwait(false);
    }

    /// <summary>Makes the session <paramref name="connecting"/> opens the current one, once it is open.</summary>
    private async Task AdoptAsync(Task<AgentClient> connecting)
    {
        var first = _opening;
        try
        {
            var fresh = await connecting.ConfigureAwait(false);
            AgentClient? old;
            lock (_gate)
            {
                if (_closed)
                {
                    _reconnecting = null;
                    _ = fresh.DisposeAsync().AsTask();
                    return;
                }

                old = _agent;
                _agent = fresh;
                _lost = null;
                _opening = false;
                _reconnecting = null;
            }

            Follow(fresh);
            if (first)
            {
                return; // the first session, opened in the background: nothing was lost
            }

            ClusterContextTelemetry.Reconnected();
            _report?.Invoke($"Reconnected: {_agentName}.");
            Reconnected?.Invoke();
            try
            {
                if (old is not null)
                {
                    await old.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                // The old transport is broken: that is why a new session was needed.
            }
        }
        catch (Exception ex)
        {
            if (first)
            {
                _report?.Invoke($"Opening the session with the agent at {_agentName} failed ({ex.Message}); reconnecting.");
            }

            Task? reopening = null;
            lock (_gate)
            {
                _reconnecting = null;
                _opening = false;
                _lastAttempt = Environment.TickCount64; // the next one waits from the end of this one
                if (first)
                {
                    // A first session that could not be opened is one lost at once: a reconnection starts now, as it
                    // would, in the same step, so an operation that sees the first one failed waits for this one.
                    _lost = ex;
                    if (_reconnect is not null && !_closed)
                    {
                        _reconnecting = reopening = ReconnectAsync();
                    }
                }
            }

            if (!first)
            {
                _report?.Invoke($"Reconnecting to {_agentName} failed: {ex.Message} Remote operations fail until a later attempt succeeds.");
            }
            else if (reopening is not null)
            {
                // And an operation already waiting for the first one: the first one ends only with this one.
                await reopening.ConfigureAwait(false);
            }
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
