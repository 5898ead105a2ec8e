using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>The addresses a name resolved to in the pod.</summary>
/// <param name="QueriedName">The fully qualified name that answered (after the search list), without a trailing dot.</param>
/// <param name="CanonicalName">The end of the CNAME chain, or the hosts file's canonical name.</param>
/// <param name="Addresses">From DNS, IPv4 addresses first, then IPv6, each in the order the server gave them; from the hosts file, in file order.</param>
/// <param name="TtlSeconds">How long the answer may be cached; 0 for answers that did not come from DNS.</param>
internal sealed record DnsAnswer(string QueriedName, string CanonicalName, IReadOnlyList<IPAddress> Addresses, uint TtlSeconds);
