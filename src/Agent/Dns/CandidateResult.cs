namespace ClusterContext.Agent.Dns;

/// <summary>How one candidate name ended: answered (with or without addresses), or an error that the search list weighs.</summary>
internal sealed record CandidateResult(HostError Error, DnsAnswer? Answer, bool Answered, DnsResponseCode FirstBufferCode, bool ConnectionRefused)
{
    public static CandidateResult Failed(HostError error, DnsResponseCode firstBufferCode, bool connectionRefused = false) =>
        new(error, null, false, firstBufferCode, connectionRefused);
}
