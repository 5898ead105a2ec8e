using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Testing.Sandbox.Network;

/// <summary>Sends one A query over a socket the caller created (in whichever network namespace it needs).</summary>
internal static class DnsClient
{
    public static async Task<DnsQueryResult> QueryAsync(
        Func<SocketType, ProtocolType, Socket> createSocket,
        IPAddress server,
        string name,
        bool useTcp,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        var query = DnsMessage.CreateQuery(id, name);
        using var socket = useTcp ? createSocket(SocketType.Stream, ProtocolType.Tcp) : createSocket(SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(new IPEndPoint(server, 53), cts.Token).ConfigureAwait(false);
        return useTcp
            ? await QueryTcpAsync(socket, query, id, cts.Token).ConfigureAwait(false)
            : await QueryUdpAsync(socket, query, id, cts.Token).ConfigureAwait(false);
    }

    private static async Task<DnsQueryResult> QueryUdpAsync(Socket socket, byte[] query, ushort id, CancellationToken cancellationToken)
    {
        await socket.SendAsync(query, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var response = new byte[512];
        var received = await socket.ReceiveAsync(response, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        return DnsMessage.ParseResponse(response.AsSpan(0, received), id);
    }

    private static async Task<DnsQueryResult> QueryTcpAsync(Socket socket, byte[] query, ushort id, CancellationToken cancellationToken)
    {
        // DNS over TCP prefixes each message with its 16-bit length.
        var framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var lengthPrefix = new byte[2];
        await ReceiveExactlyAsync(socket, lengthPrefix, cancellationToken).ConfigureAwait(false);
        var response = new byte[BinaryPrimitives.ReadUInt16BigEndian(lengthPrefix)];
        await ReceiveExactlyAsync(socket, response, cancellationToken).ConfigureAwait(false);
        return DnsMessage.ParseResponse(response, id);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new InvalidDataException("The DNS server closed the connection mid-response.");
            }

            buffer = buffer[received..];
        }
    }
}
