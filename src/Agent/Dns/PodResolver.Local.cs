using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Dns;

internal sealed partial class PodResolver
{
    /// <summary>Answers that do not come from DNS are not cached: glibc reads the hosts file on every lookup too.</summary>
    private const uint LocalTtlSeconds = 0;

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

    /// <summary>
    /// glibc's files backend: the first line naming the host, or every one with <see cref="HostsFile.Multi"/>, in file
    /// order (ignoring case; a trailing dot is part of the name, as in glibc). There is no built-in localhost: without a hosts line, glibc asks DNS for it too.
    /// </summary>
    private DnsAnswer? FromHostsFile(string name, AddressFamilyFilter family)
    {
        var hosts = _hosts();
        var entries = hosts.Find(name).Where(e => Matches(e.Address, family)).Take(hosts.Multi ? int.MaxValue : 1).ToList();
        return entries.Count > 0
            ? new DnsAnswer(name, entries[0].CanonicalName, [.. entries.Select(e => e.Address).Distinct()], LocalTtlSeconds)
            : null;
    }

    private static bool Matches(IPAddress address, AddressFamilyFilter family) => family switch
    {
        AddressFamilyFilter.IPv4 => address.AddressFamily == AddressFamily.InterNetwork,
        AddressFamilyFilter.IPv6 => address.AddressFamily == AddressFamily.InterNetworkV6,
        _ => true,
    };
}
