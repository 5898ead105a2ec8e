using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// The agent's redirector, opened on the first <see cref="Redirect"/>: an agent without incoming traffic never
/// touches nftables, and needs no NET_ADMIN. A failed open throws <see cref="PortRedirectException"/> from that
/// Redirect (its message names the fix) and is tried again on the next one. Must be created in the pod's network
/// namespace's process (the agent is), since the netlink socket belongs to the namespace it is created in.
/// </summary>
internal sealed class PortRedirector : IPortRedirector
{
    private readonly Func<IPortRedirector> _open;
    private readonly Lock _lock = new();
    private IPortRedirector? _opened;
    private bool _disposed;

    public PortRedirector(ILogger logger)
        : this(() => NftRedirector.Open(logger))
    {
    }

    internal PortRedirector(Func<IPortRedirector> open) => _open = open;

    /// <summary>Whether the nftables table exists (a port was redirected since the start).</summary>
    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _opened is not null;
            }
        }
    }

    public void Redirect(ushort podPort, ushort listenerPort)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _opened ??= _open();
            _opened.Redirect(podPort, listenerPort);
        }
    }

    public void Remove(ushort podPort)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _opened?.Remove(podPort);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _opened?.Dispose();
            _opened = null;
        }
    }
}
