using System.Net;
using System.Security.Cryptography;

namespace ClusterContext.Agent.Dns;

internal sealed partial class PodResolver
{
    /// <summary>Where <c>options rotate</c> starts next; glibc too keeps one counter per process, starting at random.</summary>
    private static int s_rotation = RandomNumberGenerator.GetInt32(int.MaxValue / 2);

    /// <summary>
    /// glibc's <c>res_send</c>: <see cref="ResolverConfig.Attempts"/> rounds through the name servers (starting at a rotating
    /// one with <c>rotate</c>), each server given its own timeout; over TCP once one truncated, and then for one round only.
    /// </summary>
    private async Task<SendResult> SendAsync(IReadOnlyList<DnsQuestion> questions, ResolverConfig config, CancellationToken ct)
    {
        var count = config.NameServers.Count;
        var offset = config.Rotate && count > 1 ? (int)((uint)Interlocked.Increment(ref s_rotation) % (uint)count) : 0;
        var tcp = config.UseTcp;
        var gotSomewhere = false;
        var connectionRefused = false;
        var firstBufferCode = DnsResponseCode.NoError;
        for (var attempt = 0; attempt < config.Attempts; attempt++)
        {
            for (var shift = 0; shift < count; shift++)
            {
                var index = (shift + offset) % count;
                var server = new IPEndPoint(config.NameServers[index], _port);
                var timeout = config.TimeoutFor(index);
                ExchangeResult result;
                while (true)
                {
                    if (tcp)
                    {
                        // glibc: over TCP, at most one round.
                        attempt = config.Attempts;
                        result = await NameServerExchange.TcpAsync(server, questions, timeout, ct).ConfigureAwait(false);
                    }
                    else
                    {
                        result = await NameServerExchange.UdpAsync(server, questions, timeout, config.SingleRequest, ct).ConfigureAwait(false);
                    }

                    gotSomewhere |= result.GotSomewhere;
                    firstBufferCode = result.FirstCode ?? firstBufferCode;
                    if (result.Status != ExchangeStatus.UseTcp)
                    {
                        break;
                    }

                    DnsLog.Truncated(_logger, server, questions[0].Name);
                    tcp = true;
                }

                if (result.Status == ExchangeStatus.Answered)
                {
                    return new SendResult(result.Responses, firstBufferCode, false);
                }

                DnsLog.ServerGaveNoAnswer(_logger, server, questions[0].Name, result.FirstCode);
                connectionRefused = result.ConnectionRefused;
            }
        }

        return new SendResult(null, firstBufferCode, tcp ? connectionRefused : !gotSomewhere);
    }
}
