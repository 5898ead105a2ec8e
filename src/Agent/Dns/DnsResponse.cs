using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>What a decoded response says about the question it answers.</summary>
/// <param name="Id">The message id.</param>
/// <param name="ResponseCode">The RCODE; any value the server sent, named or not.</param>
/// <param name="Truncated">TC was set: the answer did not fit and must be asked again over TCP.</param>
/// <param name="Authoritative">AA was set.</param>
/// <param name="RecursionAvailable">RA was set.</param>
/// <param name="AnswerCount">ANCOUNT as sent: glibc decides on it, whatever the records are.</param>
/// <param name="AdditionalCount">ARCOUNT as sent.</param>
/// <param name="CanonicalName">The last CNAME target before the first address, or the question's name (as glibc reports it).</param>
/// <param name="Addresses">The addresses glibc takes from the answer section (see <see cref="DnsRecordSet"/>), in message order.</param>
/// <param name="HasAlias">The answer section held a CNAME.</param>
/// <param name="TtlSeconds">The smallest TTL of the CNAMEs and the records of the type asked; 0 without addresses.</param>
internal sealed record DnsResponse(
    ushort Id,
    DnsResponseCode ResponseCode,
    bool Truncated,
    bool Authoritative,
    bool RecursionAvailable,
    int AnswerCount,
    int AdditionalCount,
    string CanonicalName,
    IReadOnlyList<IPAddress> Addresses,
    bool HasAlias,
    uint TtlSeconds)
{
    /// <summary>
    /// glibc's test for a lame server in <c>send_dg</c>: NOERROR without answers from a server that is neither
    /// authoritative nor recursive and sent no additional records; it is treated like SERVFAIL (the next server is asked).
    /// </summary>
    public bool IsLame => ResponseCode == DnsResponseCode.NoError && AnswerCount == 0 && !Authoritative && !RecursionAvailable && AdditionalCount == 0;

    /// <summary>NOERROR with at least one answer record: glibc's <c>res_query</c> calls that a success, whatever the records.</summary>
    public bool HasAnswers => ResponseCode == DnsResponseCode.NoError && AnswerCount > 0;
}
