using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>What a decoded response says about the question it answers.</summary>
/// <param name="Id">The message id.</param>
/// <param name="ResponseCode">The RCODE; any value the server sent, named or not.</param>
/// <param name="Truncated">TC was set: the answer did not fit and must be asked again over TCP.</param>
/// <param name="CanonicalName">The end of the CNAME chain starting at the question's name.</param>
/// <param name="Addresses">The addresses of <paramref name="CanonicalName"/> of the type asked for, in message order.</param>
/// <param name="TtlSeconds">The smallest TTL of the CNAME chain and the addresses; 0 without addresses.</param>
internal sealed record DnsResponse(
    ushort Id, DnsResponseCode ResponseCode, bool Truncated, string CanonicalName, IReadOnlyList<IPAddress> Addresses, uint TtlSeconds);
