using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Dns;

internal sealed partial class PodResolver
{
    /// <summary>Answers that do not come from DNS are not cached: glibc reads the hosts file on every lookup too.</summary>
    private const uint LocalTtlSeconds = 0;

    private const string Localhost = "localhost";

    private static DnsAnswer? FromLiteral(string name, AddressFamilyFilter family)
    {
        if (!IPAddress.TryParse(name, out var address))
        {
            return null;
        }

        return Matches(address, family)
            ? new DnsAnswer(name, name, [address], LocalTtlSeconds)
            : throw new RemoteException(ErrorCode.NameNotFound, $"'{name}' is an address of another family than the {family} asked for.");
    }

    private DnsAnswer? FromHostsFile(string name, AddressFamilyFilter family)
    {
        var queried = DnsName.TrimRoot(name);
        var entries = _hosts().Find(queried).Where(e => Matches(e.Address, family)).ToList();
        if (entries.Count > 0)
        {
            return new DnsAnswer(queried, entries[0].CanonicalName, [.. entries.Select(e => e.Address).Distinct()], LocalTtlSeconds);
        }

        // RFC 6761: localhost is the loopback even when an image ships no hosts file.
        if (string.Equals(queried, Localhost, StringComparison.OrdinalIgnoreCase))
        {
            IPAddress[] loopback = family switch
            {
                AddressFamilyFilter.IPv4 => [IPAddress.Loopback],
                AddressFamilyFilter.IPv6 => [IPAddress.IPv6Loopback],
                _ => [IPAddress.Loopback, IPAddress.IPv6Loopback],
            };
            return new DnsAnswer(queried, Localhost, loopback, LocalTtlSeconds);
        }

        return null;
    }

    private static bool Matches(IPAddress address, AddressFamilyFilter family) => family switch
    {
        AddressFamilyFilter.IPv4 => address.AddressFamily == AddressFamily.InterNetwork,
        AddressFamilyFilter.IPv6 => address.AddressFamily == AddressFamily.InterNetworkV6,
        _ => true,
    };
}
