using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Decides whether a destination is on the pod's side: named by the <c>remote</c> filters, or an address a name
/// resolved to in the pod (and not named by the <c>local</c> filters).
/// </summary>
internal sealed class RemoteDestinations(OutgoingSettings settings)
{
    private readonly List<OutgoingFilter> _remote = [.. settings.Remote.Select(OutgoingFilter.Parse)];
    private readonly List<OutgoingFilter> _local = [.. settings.Local.Select(OutgoingFilter.Parse)];
    private readonly ConcurrentDictionary<IPAddress, string> _resolvedInPod = new();

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
        var enabled = protocol == ProtocolType.Udp ? settings.Udp : settings.Tcp;
        var address = Normalize(destination.Address);
        if (!enabled || IPAddress.IsLoopback(address))
        {
            return false;
        }

        var names = _resolvedInPod.TryGetValue(address, out var name) ? [name] : Array.Empty<string>();
        var normalized = new IPEndPoint(address, destination.Port);
        if (_local.Exists(f => f.Matches(normalized, protocol, names)))
        {
            return false;
        }

        return names.Length > 0 || _remote.Exists(f => f.Matches(normalized, protocol, names));
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
