namespace ClusterContext.AspNetCore.Internal;

/// <summary>
/// <see cref="IClusterContext"/> over a session of this load context, over one the startup hook runs in its own
/// (through <see cref="Hosting.SessionHandoff"/>'s entries, runtime types only), or over none.
/// </summary>
internal sealed class HostedClusterContext : IClusterContext, IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoVariables = new Dictionary<string, string>();

    private readonly bool _active;
    private readonly bool _connected;
    private readonly Func<bool> _isLost;
    private IDisposable? _subscription;

    private HostedClusterContext(bool active, bool connected, Func<bool> isLost, string? target, string? @namespace, string? pod, string? container, IReadOnlyDictionary<string, string> environment)
    {
        _active = active;
        _connected = connected;
        _isLost = isLost;
        Target = target;
        PodNamespace = @namespace;
        Pod = pod;
        Container = container;
        ImportedEnvironment = environment;
    }

    public event EventHandler? StateChanged;

    public ClusterContextState State => !_active ? ClusterContextState.Off
        : !_connected ? ClusterContextState.Local
        : _isLost() ? ClusterContextState.Lost
        : ClusterContextState.Connected;

    public string? Target { get; }

    public string? PodNamespace { get; }

    public string? Pod { get; }

    public string? Container { get; }

    public IReadOnlyDictionary<string, string> ImportedEnvironment { get; }

    /// <summary>The session this call started (and so ends with the host); null when it joined one or none runs.</summary>
    public ClusterContextSession? Owned { get; private init; }

    /// <summary>Whether the session is the startup hook's, in its own load context.</summary>
    public bool Joined { get; private init; }

    public static HostedClusterContext Off() => new(false, false, () => false, null, null, null, null, NoVariables);

    public static HostedClusterContext FromSession(ClusterContextSession session, bool owned)
    {
        var target = session.Target;
        var context = new HostedClusterContext(true, session.IsConnected, () => session.IsLost, session.Options.Target, target?.Namespace, target?.Pod, target?.Container, session.ImportedEnvironment)
        {
            Owned = owned ? session : null,
        };
        Action changed = context.OnStateChanged;
        session.StateChanged += changed;
        context._subscription = new Subscription(() => session.StateChanged -= changed);
        return context;
    }

    public static HostedClusterContext FromHandoff(IReadOnlyDictionary<string, object?> entries)
    {
        T Get<T>(string key) => entries.TryGetValue(key, out var value) && value is T typed ? typed : default!;
        var isLost = Get<Func<bool>>("IsLost") ?? (() => false);
        var context = new HostedClusterContext(true, Get<bool>("IsConnected"), isLost, Get<string?>("Target"), Get<string?>("Namespace"), Get<string?>("Pod"), Get<string?>("Container"),
            Get<IReadOnlyDictionary<string, string>?>("ImportedEnvironment") ?? NoVariables)
        {
            Joined = true,
        };
        context._subscription = Get<Func<Action, IDisposable>?>("SubscribeStateChanged")?.Invoke(context.OnStateChanged);
        return context;
    }

    public void Dispose() => Interlocked.Exchange(ref _subscription, null)?.Dispose();

    private void OnStateChanged() => StateChanged?.Invoke(this, EventArgs.Empty);

    private sealed class Subscription(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
