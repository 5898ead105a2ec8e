using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Network;

/// <summary>Serves <see cref="UdpOpenRequest"/>: a UDP socket in the pod's network namespace, its datagrams relayed over the stream.</summary>
internal static class UdpRelay
{
    public static async Task RunAsync(IncomingRequest request, UdpOpenRequest open)
    {
        var ct = request.CancellationToken;
        var any = open.IPv6 ? IPAddress.IPv6Any : IPAddress.Any;
        using var socket = new Socket(any.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(any, 0));
        var stream = request.CreateStream();
        request.Respond(new UdpOpenResponse((IPEndPoint)socket.LocalEndPoint!));
        await using (stream.ConfigureAwait(false))
        {
            using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var receive = ReceiveAsync(socket, stream, any, done.Token);
            try
            {
                while (await DatagramCodec.ReadAsync(stream, ct).ConfigureAwait(false) is { } datagram)
                {
                    try
                    {
                        await socket.SendToAsync(datagram.Datagram, SocketFlags.None, datagram.Remote, ct).ConfigureAwait(false);
                    }
                    catch (SocketException)
                    {
                        // UDP is lossy by contract: a datagram that cannot be sent is dropped, as the kernel would.
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
            finally
            {
                await done.CancelAsync().ConfigureAwait(false);
                await receive.ConfigureAwait(false);
            }
        }
    }

    private static async Task ReceiveAsync(Socket socket, MuxStream stream, IPAddress any, CancellationToken ct)
    {
        var buffer = new byte[DatagramCodec.MaxDatagram];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(any, 0), ct).ConfigureAwait(false);
                await DatagramCodec.WriteAsync(stream, (IPEndPoint)received.RemoteEndPoint, buffer.AsMemory(0, received.ReceivedBytes), ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
        }
    }
}
