using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Dns;

internal sealed partial class PodResolver
{
    private static readonly DnsRecordType[] BothTypes = [DnsRecordType.A, DnsRecordType.Aaaa];
    private static readonly DnsRecordType[] IPv4Types = [DnsRecordType.A];
    private static readonly DnsRecordType[] IPv6Types = [DnsRecordType.Aaaa];

    /// <summary>Looks one candidate up; A and AAAA are asked at the same time, as glibc does.</summary>
    private async Task<(LookupStatus Status, DnsAnswer? Answer)> LookupAsync(
        string candidate, AddressFamilyFilter family, ResolverConfig config, CancellationToken ct)
    {
        var types = family switch
        {
            AddressFamilyFilter.IPv4 => IPv4Types,
            AddressFamilyFilter.IPv6 => IPv6Types,
            _ => BothTypes,
        };
        var responses = await Task.WhenAll(types.Select(t => QueryAsync(candidate, t, config, ct))).ConfigureAwait(false);

        var found = responses.OfType<DnsResponse>().Where(r => r.Addresses.Count > 0).ToList();
        if (found.Count > 0)
        {
            var addresses = found.SelectMany(r => r.Addresses).ToList();
            return (LookupStatus.Found, new DnsAnswer(candidate, found[0].CanonicalName, addresses, found.Min(r => r.TtlSeconds)));
        }

        var statuses = responses.Select(Classify).ToList();

        // NXDOMAIN is about the name, not the type, so it settles the candidate even when the other query failed.
        return (statuses.Contains(LookupStatus.NameError) ? LookupStatus.NameError : statuses.Max(), null);
    }

    private static LookupStatus Classify(DnsResponse? response) => response?.ResponseCode switch
    {
        null => LookupStatus.Unreachable,
        DnsResponseCode.NoError => LookupStatus.NoData,
        DnsResponseCode.NameError => LookupStatus.NameError,
        DnsResponseCode.ServerFailure => LookupStatus.ServerFailure,
        _ => LookupStatus.Refused,
    };

    /// <summary>Asks the name servers in order, <see cref="ResolverConfig.Attempts"/> rounds; null when none answered.</summary>
    private async Task<DnsResponse?> QueryAsync(string name, DnsRecordType type, ResolverConfig config, CancellationToken ct)
    {
        DnsResponse? failed = null;
        for (var attempt = 0; attempt < config.Attempts; attempt++)
        {
            foreach (var address in config.NameServers)
            {
                var server = new IPEndPoint(address, _port);
                var response = await ExchangeAsync(server, name, type, config, ct).ConfigureAwait(false);
                if (response is { ResponseCode: DnsResponseCode.NoError or DnsResponseCode.NameError })
                {
                    return response;
                }

                // Like glibc, SERVFAIL, REFUSED and the like send the query on to the next server.
                if (response is not null)
                {
                    DnsLog.ServerRefused(_logger, server, type, name, response.ResponseCode);
                    failed = response;
                }
            }
        }

        return failed;
    }

    /// <summary>One query to one server: UDP, and TCP when the UDP answer is truncated; null when the server did not answer usefully.</summary>
    private async Task<DnsResponse?> ExchangeAsync(IPEndPoint server, string name, DnsRecordType type, ResolverConfig config, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(config.TimeoutSeconds);
        var id = DnsMessage.NewId();
        var query = DnsMessage.EncodeQuery(id, name, type);
        try
        {
            var datagram = await WithTimeoutAsync(t => DnsTransport.ExchangeUdpAsync(server, query, id, t), timeout, ct).ConfigureAwait(false);
            var response = DnsMessage.DecodeResponse(datagram, id, name, type);
            if (!response.Truncated)
            {
                return response;
            }

            DnsLog.Truncated(_logger, server, type, name);
            var message = await WithTimeoutAsync(t => DnsTransport.ExchangeTcpAsync(server, query, t), timeout, ct).ConfigureAwait(false);
            response = DnsMessage.DecodeResponse(message, id, name, type);
            return response.Truncated ? throw DnsMessageReader.Malformed("truncated response over TCP") : response;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            DnsLog.ServerTimedOut(_logger, server, type, name, config.TimeoutSeconds);
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidDataException)
        {
            DnsLog.ServerFailed(_logger, server, type, name, ex);
        }

        // A socket error can stand in for the caller's cancellation; it must not turn into asking the next server.
        ct.ThrowIfCancellationRequested();
        return null;
    }

    private static async Task<byte[]> WithTimeoutAsync(Func<CancellationToken, Task<byte[]>> exchange, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        return await exchange(deadline.Token).ConfigureAwait(false);
    }
}
