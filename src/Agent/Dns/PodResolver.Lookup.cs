using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Dns;

internal sealed partial class PodResolver
{
    private static readonly DnsRecordType[] BothTypes = [DnsRecordType.A, DnsRecordType.Aaaa];
    private static readonly DnsRecordType[] IPv4Types = [DnsRecordType.A];
    private static readonly DnsRecordType[] IPv6Types = [DnsRecordType.Aaaa];

    /// <summary>
    /// Looks one candidate up as glibc's <c>res_query</c> does: for any family A and AAAA at once, and the responses
    /// kept are a success when one of them is NOERROR with answer records; otherwise the RCODE (the first response's,
    /// unless that is NOERROR) gives the error.
    /// </summary>
    private async Task<CandidateResult> LookupAsync(string candidate, AddressFamilyFilter family, ResolverConfig config, CancellationToken ct)
    {
        // res_mkquery cannot encode it: glibc fails the candidate with NO_RECOVERY without sending anything.
        if (!DnsName.CanEncode(candidate))
        {
            return CandidateResult.Failed(HostError.NoRecovery, DnsResponseCode.NoError);
        }

        var types = family switch
        {
            AddressFamilyFilter.IPv4 => IPv4Types,
            AddressFamilyFilter.IPv6 => IPv6Types,
            _ => config.NoAaaa ? IPv4Types : BothTypes,
        };
        var sent = await SendAsync([.. types.Select(t => DnsQuestion.Create(candidate, t))], config, ct).ConfigureAwait(false);
        if (sent.Responses is not { Count: > 0 } responses)
        {
            return CandidateResult.Failed(HostError.TryAgain, sent.FirstBufferCode, sent.ConnectionRefused);
        }

        var first = responses[0];
        var second = responses.Count > 1 ? responses[1] : first;
        if (!first.HasAnswers && !second.HasAnswers)
        {
            var error = (first.ResponseCode == DnsResponseCode.NoError ? second.ResponseCode : first.ResponseCode) switch
            {
                DnsResponseCode.NameError => HostError.HostNotFound,
                DnsResponseCode.ServerFailure => HostError.TryAgain,
                DnsResponseCode.NoError => HostError.NoData,
                _ => HostError.NoRecovery,
            };
            return CandidateResult.Failed(error, sent.FirstBufferCode);
        }

        return new CandidateResult(HostError.HostNotFound, Answer(candidate, family, responses), true, sent.FirstBufferCode, false);
    }

    /// <summary>
    /// glibc's <c>gaih_getanswer</c>: the addresses of both responses, in the order they arrived; none when the first
    /// has no address records (only a CNAME, or nothing) and the second has none either. An answered candidate without
    /// addresses ends the search: the name is not found, even if a later candidate would have addresses.
    /// </summary>
    private static DnsAnswer? Answer(string candidate, AddressFamilyFilter family, IReadOnlyList<DnsResponse> responses)
    {
        var withAddresses = responses.Where(r => r.ResponseCode == DnsResponseCode.NoError && r.Addresses.Count > 0).ToList();
        var addresses = withAddresses.SelectMany(r => r.Addresses).Where(a => Matches(a, family)).ToList();
        return addresses.Count == 0
            ? null
            : new DnsAnswer(candidate, withAddresses[0].CanonicalName, addresses, withAddresses.Min(r => r.TtlSeconds));
    }
}
