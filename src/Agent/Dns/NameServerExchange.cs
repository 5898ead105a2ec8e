using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Agent.Dns;

/// <summary>
/// One exchange of a query set (A, AAAA, or both at once) with one name server, read the way glibc's <c>send_dg</c>
/// and <c>send_vc</c> read it, so that which server answers, and with what, is the same as for the pod's own programs.
/// </summary>
internal static class NameServerExchange
{
    private const int MaxDatagram = ushort.MaxValue;

    /// <summary>
    /// Over UDP, on one socket. A response with SERVFAIL, NOTIMP or REFUSED, or a lame one, is dropped: if the other
    /// query's response was kept, that one alone answers; if not, glibc waits for it, and when both are dropped the next
    /// server is asked. A truncated response sends both queries to this server again over TCP. When the wait runs out
    /// with one response kept, glibc asks again one query at a time and, the other still unanswered, settles for it.
    /// </summary>
    public static async Task<ExchangeResult> UdpAsync(
        IPEndPoint server, IReadOnlyList<DnsQuestion> questions, TimeSpan timeout, bool singleRequest, CancellationToken ct)
    {
        var kept = new List<DnsResponse>();
        var done = new bool[questions.Count];
        DnsResponseCode? firstCode = null;
        var gotSomewhere = false;
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var buffer = new byte[MaxDatagram];
        try
        {
            // Connected, so that only the server's datagrams arrive and an ICMP "port unreachable" fails at once.
            await socket.ConnectAsync(server, deadline.Token).ConfigureAwait(false);
            var sent = 0;
            while (sent < (singleRequest ? 1 : questions.Count))
            {
                await socket.SendAsync(questions[sent++].Message, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            }

            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                gotSomewhere = true;
                if (received < DnsMessage.HeaderLength)
                {
                    return ExchangeResult.Next(firstCode, gotSomewhere);
                }

                var message = buffer.AsSpan(0, received);
                var index = Matching(message, questions, done, sent);
                if (index < 0)
                {
                    continue;
                }

                var question = questions[index];
                var response = DnsMessage.DecodeResponse(message, question.Id, question.Name, question.Type);
                firstCode ??= response.ResponseCode;
                done[index] = true;
                if (response.ResponseCode is DnsResponseCode.ServerFailure or DnsResponseCode.NotImplemented or DnsResponseCode.Refused
                    || response.IsLame)
                {
                    if (kept.Count > 0)
                    {
                        return new ExchangeResult(ExchangeStatus.Answered, kept, firstCode, gotSomewhere);
                    }

                    // Asked one at a time, the other query was not sent yet: glibc goes on to the next server at once.
                    if (singleRequest || done.All(d => d))
                    {
                        return ExchangeResult.Next(firstCode, gotSomewhere);
                    }

                    continue;
                }

                if (response.Truncated)
                {
                    return new ExchangeResult(ExchangeStatus.UseTcp, [], firstCode, gotSomewhere);
                }

                kept.Add(response);
                if (done.All(d => d))
                {
                    return new ExchangeResult(ExchangeStatus.Answered, kept, firstCode, gotSomewhere);
                }

                if (sent < questions.Count && singleRequest)
                {
                    await socket.SendAsync(questions[sent++].Message, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return kept.Count > 0
                ? new ExchangeResult(ExchangeStatus.Answered, kept, firstCode, true)
                : ExchangeResult.Next(firstCode, gotSomewhere: true);
        }
        catch (Exception ex) when (ex is SocketException or InvalidDataException)
        {
            // A socket error can stand in for the caller's cancellation; it must not turn into asking the next server.
            ct.ThrowIfCancellationRequested();
            return ExchangeResult.Next(firstCode, gotSomewhere);
        }
    }

    /// <summary>
    /// Over TCP (RFC 1035 section 4.2.2): both queries on one connection, each response kept whatever its RCODE, as glibc's
    /// <c>send_vc</c> does. glibc waits without a limit here; the agent gives the server its UDP timeout.
    /// </summary>
    public static async Task<ExchangeResult> TcpAsync(IPEndPoint server, IReadOnlyList<DnsQuestion> questions, TimeSpan timeout, CancellationToken ct)
    {
        var kept = new List<DnsResponse>();
        var done = new bool[questions.Count];
        DnsResponseCode? firstCode = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, deadline.Token).ConfigureAwait(false);
            var stream = new NetworkStream(socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                foreach (var question in questions)
                {
                    var framed = new byte[2 + question.Message.Length];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)question.Message.Length);
                    question.Message.CopyTo(framed, 2);
                    await stream.WriteAsync(framed, deadline.Token).ConfigureAwait(false);
                }

                var prefix = new byte[2];
                while (!done.All(d => d))
                {
                    await stream.ReadExactlyAsync(prefix, deadline.Token).ConfigureAwait(false);
                    var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                    await stream.ReadExactlyAsync(message, deadline.Token).ConfigureAwait(false);
                    var id = message.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(message) : -1;
                    var index = Enumerable.Range(0, questions.Count).FirstOrDefault(i => !done[i] && questions[i].Id == id, -1);
                    if (index < 0)
                    {
                        continue;
                    }

                    var response = DnsMessage.DecodeResponse(message, questions[index].Id, questions[index].Name, questions[index].Type);
                    firstCode ??= response.ResponseCode;
                    done[index] = true;
                    kept.Add(response);
                }

                return new ExchangeResult(ExchangeStatus.Answered, kept, firstCode, true);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ExchangeResult.Next(firstCode, gotSomewhere: true);
        }
        catch (SocketException ex)
        {
            ct.ThrowIfCancellationRequested();
            return ExchangeResult.Next(firstCode, gotSomewhere: true, connectionRefused: ex.SocketErrorCode == SocketError.ConnectionRefused);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            ct.ThrowIfCancellationRequested();
            return ExchangeResult.Next(firstCode, gotSomewhere: true);
        }
    }

    private static int Matching(ReadOnlySpan<byte> message, IReadOnlyList<DnsQuestion> questions, bool[] done, int sent)
    {
        for (var i = 0; i < sent; i++)
        {
            if (!done[i] && DnsMessage.AnswersQuery(message, questions[i].Id, questions[i].Name, questions[i].Type))
            {
                return i;
            }
        }

        return -1;
    }
}
