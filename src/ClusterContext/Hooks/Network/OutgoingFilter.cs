using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ClusterContext.Hooks.Network;

/// <summary>One <c>[tcp|udp://]name|addr|cidr[:port]</c> filter of the <c>network.outgoing</c> settings.</summary>
internal sealed class OutgoingFilter
{
    private readonly ProtocolType? _protocol;
    private readonly IPNetwork? _network;
    private readonly Regex? _name;
    private readonly int? _port;

    private OutgoingFilter(ProtocolType? protocol, IPNetwork? network, Regex? name, int? port)
    {
        _protocol = protocol;
        _network = network;
        _name = name;
        _port = port;
    }

    public static OutgoingFilter Parse(string filter)
    {
        var text = filter.Trim();
        ProtocolType? protocol = null;
        if (text.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
        {
            (protocol, text) = (ProtocolType.Tcp, text[6..]);
        }
        else if (text.StartsWith("udp://", StringComparison.OrdinalIgnoreCase))
        {
            (protocol, text) = (ProtocolType.Udp, text[6..]);
        }

        int? port = null;
        var colon = text.LastIndexOf(':');
        if (colon >= 0 && !text.Contains("::", StringComparison.Ordinal) && int.TryParse(text[(colon + 1)..], out var parsed))
        {
            (port, text) = (parsed, text[..colon]);
        }

        if (text.Length == 0)
        {
            // ":53": that port on any address.
            return new OutgoingFilter(protocol, null, null, port);
        }

        if (IPNetwork.TryParse(text, out var network))
        {
            return new OutgoingFilter(protocol, network, null, port);
        }

        if (IPAddress.TryParse(text, out var address))
        {
            return new OutgoingFilter(protocol, new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128), null, port);
        }

        var glob = "^" + Regex.Escape(text).Replace("\\*", ".*", StringComparison.Ordinal) + "$";
        return new OutgoingFilter(protocol, null, new Regex(glob, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), port);
    }

    public bool Matches(IPEndPoint destination, ProtocolType protocol, IEnumerable<string> names) =>
        (_protocol is null || _protocol == protocol)
        && (_port is null || _port == destination.Port)
        && (_network is { } network ? network.Contains(destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address)
            : _name is null || names.Any(n => _name.IsMatch(n)));
}
