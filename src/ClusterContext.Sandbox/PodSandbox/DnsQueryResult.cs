using System.Net;

namespace ClusterContext.Testing.Sandbox;

/// <summary>A cluster DNS answer to an A query.</summary>
/// <param name="ResponseCode">The DNS RCODE: 0 no error, 3 name error (NXDOMAIN).</param>
/// <param name="Addresses">The IPv4 addresses in the answer section.</param>
public sealed record DnsQueryResult(int ResponseCode, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>Whether the server said the name does not exist.</summary>
    public bool IsNameError => ResponseCode == 3;
}
