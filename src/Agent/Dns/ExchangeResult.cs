namespace ClusterContext.Agent.Dns;

/// <summary>How one exchange with one name server ended.</summary>
/// <param name="Status">Whether the responses settle the query, the next server is to be asked, or this one again over TCP.</param>
/// <param name="Responses">The responses kept, in the order they arrived (glibc's first and second answer buffers).</param>
/// <param name="FirstCode">The RCODE of the first response that arrived, kept or not: what glibc's first answer buffer then holds.</param>
/// <param name="GotSomewhere">A datagram arrived or the wait ran out: glibc then reports a timeout rather than "connection refused".</param>
/// <param name="ConnectionRefused">The TCP connection was refused.</param>
internal sealed record ExchangeResult(
    ExchangeStatus Status, IReadOnlyList<DnsResponse> Responses, DnsResponseCode? FirstCode, bool GotSomewhere, bool ConnectionRefused = false)
{
    public static ExchangeResult Next(DnsResponseCode? firstCode, bool gotSomewhere, bool connectionRefused = false) =>
        new(ExchangeStatus.NextServer, [], firstCode, gotSomewhere, connectionRefused);
}
