using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Agent.Dns;

/// <summary>Sends one query to one name server and returns the raw response; the caller's token carries the timeout.</summary>
internal static class DnsTransport
{
    /// <summary>Servers may send more than 512 bytes over UDP; a datagram can never exceed this.</summary>
    private const int MaxDatagram = ushort.MaxValue;

    public static async Task<byte[]> ExchangeUdpAsync(IPEndPoint server, byte[] query, ushort id, CancellationToken ct)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);

        // Connected, so that only the server's datagrams arrive and an ICMP "port unreachable" fails the
        // receive at once instead of after the timeout.
        await socket.ConnectAsync(server, ct).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, ct).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
                if (DnsMessage.IsResponseTo(buffer.AsSpan(0, received), id))
                {
                    return buffer[..received];
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>RFC 1035 section 4.2.2: each message is preceded by its length in two bytes.</summary>
    public static async Task<byte[]> ExchangeTcpAsync(IPEndPoint server, byte[] query, CancellationToken ct)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, ct).ConfigureAwait(false);
        var stream = new NetworkStream(socket, ownsSocket: false);
        await using (stream.ConfigureAwait(false))
        {
            var framed = new byte[2 + query.Length];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed, 2);
            await stream.WriteAsync(framed, ct).ConfigureAwait(false);

            var prefix = new byte[2];
            await stream.ReadExactlyAsync(prefix, ct).ConfigureAwait(false);
            var response = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            await stream.ReadExactlyAsync(response, ct).ConfigureAwait(false);
            return response;
        }
    }
}
