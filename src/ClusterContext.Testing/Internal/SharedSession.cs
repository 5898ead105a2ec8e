namespace ClusterContext.Testing.Internal;

/// <summary>
/// The process's one session, shared by the fixtures alive at the same time (classes run in parallel): started by
/// the first, ended by the last; a session that was running before any fixture (the startup hook's) is left running.
/// </summary>
internal static class SharedSession
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static ClusterContextSession? s_started;
    private static int s_users;

    /// <summary>The session to use, or none and why (not required, and it did not start in time).</summary>
    public static async Task<(ClusterContextSession? Session, string? LocalReason)> AcquireAsync(ClusterContextOptions options, FixtureLog log)
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (ClusterContextSession.Current is not { } session)
            {
                var (started, reason) = await StartAsync(options, log).ConfigureAwait(false);
                if (started is null)
                {
                    return (null, reason);
                }

                session = s_started = started;
            }

            s_users++;
            return (session, null);
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task ReleaseAsync(ClusterContextSession session)
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (--s_users == 0 && s_started == session)
            {
                s_started = null;
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Starts the session within a deadline of its own, the options' start-up budget (agent start plus a remote
    /// timeout each for the API and the port-forward), so that a cluster that does not answer fails (or, not
    /// required, is skipped) instead of holding the test run.
    /// </summary>
    private static async Task<(ClusterContextSession? Session, string? LocalReason)> StartAsync(ClusterContextOptions options, FixtureLog log)
    {
        var budget = options.Agent.StartTimeout + options.Timeout + options.Timeout;
        using var deadline = new CancellationTokenSource(budget);
        // On the pool: parts of the start block (kubeconfig, credentials), and the deadline must hold over them too.
        var start = Task.Run(() => ClusterContextSession.StartAsync(options, log, deadline.Token), CancellationToken.None);
        try
        {
            return (await start.WaitAsync(deadline.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException ex)
        {
            // A start that ends after all is not wanted any more: its session ends at once.
            _ = start.ContinueWith(t => t.Result.DisposeAsync().AsTask(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            var what = options.Target ?? options.Agent.Address;

            // The deadline, or a timeout inside the start the session does not word itself (an API server that
            // accepts connections and never answers ends in the HTTP client's connect timeout).
            var message = deadline.IsCancellationRequested
                ? $"Cannot run in the context of {what}: the session did not start within {budget.TotalSeconds:0.#} s (agent.startTimeout + 2 × timeout).{log.LastProgressSuffix}"
                : $"Cannot run in the context of {what}: {ex.InnerException?.Message ?? ex.Message}{log.LastProgressSuffix}";
            return options.Required ? throw new ClusterContextUnavailableException(message, ex) : (null, message);
        }
    }
}
