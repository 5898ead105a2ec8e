namespace ClusterContext.Hooks;

/// <summary>
/// Marks the session's own work (reconnecting to the cluster: kubeconfig files, the API server's name and address,
/// its TLS connections) so the hooks leave it alone: routed through the pod, it would wait on the very session it is
/// trying to restore. Flows with the async context, as <see cref="AsyncLocal{T}"/> does.
/// </summary>
internal static class HookBypass
{
    private static readonly AsyncLocal<bool> s_active = new();

    /// <summary>Whether the current flow is the session's own.</summary>
    public static bool Active => s_active.Value;

    /// <summary>Marks the current flow (and what it starts) as the session's own until the scope is disposed.</summary>
    public static Scope Enter()
    {
        var previous = s_active.Value;
        s_active.Value = true;
        return new Scope(previous);
    }

    /// <summary>Restores the flow's previous mark.</summary>
    public readonly struct Scope(bool previous) : IDisposable
    {
        public void Dispose() => s_active.Value = previous;
    }
}
