namespace ClusterContext.Agent.Dns;

/// <summary>
/// The outcome of glibc's <c>res_send</c> for one candidate: the responses kept from the server that settled it, or
/// none (every server failed); with the RCODE last seen in glibc's first answer buffer, which its search list reads.
/// </summary>
internal sealed record SendResult(IReadOnlyList<DnsResponse>? Responses, DnsResponseCode FirstBufferCode, bool ConnectionRefused);
