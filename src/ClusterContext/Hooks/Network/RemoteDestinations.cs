using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Decides whether a destination is reached through the pod. In order: loopback and unspecified addresses stay local;
/// then the <c>local</c> filters (local), the <c>remote</c> filters (remote); then what must stay local for the session
/// to work or makes no sense from the pod (the API server, proxy and agent addresses the session itself uses, multicast,
/// broadcast, IPv6 link-local addresses, whose zone is an interface of this machine); then the default: everything else
/// through the pod, or with <c>default: local</c> only the addresses a name resolved to in the pod.
/// </summary>
internal sealed class RemoteDestinations
{
    private static readonly IPAddress Broadcast = IPAddress.Broadcast;

    private readonly OutgoingSettings _settings;
    private readonly List<OutgoingFilter> _remote;
    private readonly List<OutgoingFilter> _local;
    private readonly HashSet<IPEndPoint> _session;
    private readonly ConcurrentDictionary<IPAddress, string> _resolvedInPod = new();

    /// <param name="settings">The <c>network.outgoing</c> settings.</param>
    /// <param name="sessionEndPoints">Where the session's own connections go (API server, proxy, agent), kept local by default.</param>
    public RemoteDestinations(OutgoingSettings settings, IEnumerable<IPEndPoint>? sessionEndPoints = null)
    {
        _settings = settings;
        _remote = [.. settings.Remote.Select(OutgoingFilter.Parse)];
        _local = [.. settings.Local.Select(OutgoingFilter.Parse)];
        _session = [.. (sessionEndPoints ?? []).Select(e => new IPEndPoint(Normalize(e.Address), e.Port))];
    }

    /// <summary>Records addresses the pod's resolver gave for <paramref name="name"/>.</summary>
    public void Learn(string name, IEnumerable<IPAddress> addresses)
    {
        foreach (var address in addresses)
        {
            _resolvedInPod[Normalize(address)] = name;
        }
    }

    public bool IsRemote(IPEndPoint destination, ProtocolType protocol)
    {
        var enabled = protocol == ProtocolType.Udp ? _settings.Udp : _settings.Tcp;
        var address = Normalize(destination.Address);
        if (!enabled || IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }

        var names = _resolvedInPod.TryGetValue(address, out var name) ? [name] : Array.Empty<string>();
        var normalized = new IPEndPoint(address, destination.Port);
        if (_local.Exists(f => f.Matches(normalized, protocol, names)))
        {
            return false;
        }

        if (_remote.Exists(f => f.Matches(normalized, protocol, names)))
        {
            return true;
        }

        if (_session.Contains(normalized) || IsLocalOnly(address))
        {
            return false;
        }

        return _settings.Default == OutgoingDefault.Remote || names.Length > 0;
    }

    // Multicast and broadcast reach this machine's own network segment; an IPv6 link-local address carries the zone
    // (interface) of this machine it was meant for. IPv4 link-local (169.254/16) goes through the pod: from a pod it is
    // the node's metadata service or node-local DNS cache.
    private static bool IsLocalOnly(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? address.GetAddressBytes()[0] >= 224 || address.Equals(Broadcast)
            : address.IsIPv6Multicast || address.IsIPv6LinkLocal;

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
