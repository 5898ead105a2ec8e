namespace ClusterContext.Agent.Incoming;

/// <summary>A subscribed pod port: who subscribed, the listener its redirect points at, and the way to its original app.</summary>
internal sealed class PortEntry(ushort port, PortListener listener, OriginalApp original, Coordination.TakeoverHold? hold = null)
{
    public ushort Port { get; } = port;

    public ushort ListenerPort => Listener.Port;

    public PortListener Listener { get; } = listener;

    public PortSubscriptions Subscriptions { get; } = new(port, hold);

    public OriginalApp Original { get; } = original;
}
