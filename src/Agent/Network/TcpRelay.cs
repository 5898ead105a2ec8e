using System.Buffers;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Agent.Dns;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Network;

/// <summary>Serves <see cref="TcpConnectRequest"/>: connects from the pod's network namespace and relays bytes both ways.</summary>
internal static class TcpRelay
{
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(IncomingRequest request, TcpConnectRequest connect, PodResolver resolver)
    {
        var ct = request.CancellationToken;
        var addresses = IPAddress.TryParse(connect.Host, out var literal)
            ? [literal]
            : (await resolver.ResolveAsync(connect.Host, AddressFamilyFilter.Any, ct).ConfigureAwait(false)).Addresses;
        using var socket = await ConnectAsync(connect, addresses, ct).ConfigureAwait(false);
        var stream = request.CreateStream();
        request.Respond(new TcpConnectResponse((IPEndPoint)socket.LocalEndPoint!, (IPEndPoint)socket.RemoteEndPoint!));
        await using (stream.ConfigureAwait(false))
        {
            using var relay = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var toSocket = CopyToSocketAsync(stream, socket, relay.Token);
            var toStream = CopyToStreamAsync(socket, stream, relay.Token);
            try
            {
                // One direction ending normally is a half close; one failing ends both.
                var first = await Task.WhenAny(toSocket, toStream).ConfigureAwait(false);
                if (!first.IsCompletedSuccessfully)
                {
                    await relay.CancelAsync().ConfigureAwait(false);
                }

                await Task.WhenAll(toSocket, toStream).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                stream.Reset(SocketErrors.ToException(ex, $"{connect.Host}:{connect.Port}").Code, $"Connection to {connect.Host}:{connect.Port} failed: {ex.Message}");
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The client reset the stream or the session ended; closing the socket below is all there is to do.
            }
        }
    }

    private static async Task<Socket> ConnectAsync(TcpConnectRequest connect, IReadOnlyList<IPAddress> addresses, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(connect.TimeoutMilliseconds == 0 ? DefaultConnectTimeout : TimeSpan.FromMilliseconds(connect.TimeoutMilliseconds));
        RemoteException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, connect.Port), timeout.Token).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = SocketErrors.ToException(ex, $"connect {address}:{connect.Port} ({connect.Host})");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                socket.Dispose();
                last = new RemoteException(ErrorCode.TimedOut, $"connect {address}:{connect.Port} ({connect.Host}): no answer within the timeout.");
                break;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new RemoteException(ErrorCode.NameNotFound, $"{connect.Host} has no addresses.");
    }

    // Both directions hand buffers over instead of copying them: these loops carry every tunnelled byte.
    private static async Task CopyToSocketAsync(MuxStream stream, Socket socket, CancellationToken ct)
    {
        while (true)
        {
            var result = await stream.ReadBufferAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCompleted)
            {
                await TcpEnd.SendLastAsync(socket, buffer, ct).ConfigureAwait(false);
                stream.AdvanceBuffer(buffer, buffer.Length);
                return;
            }

            foreach (var segment in buffer)
            {
                await socket.SendAsync(segment, SocketFlags.None, ct).ConfigureAwait(false);
            }

            stream.AdvanceBuffer(buffer, buffer.Length);
        }
    }

    private static async Task CopyToStreamAsync(Socket socket, MuxStream stream, CancellationToken ct)
    {
        while (true)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.MaxDataChunk);
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer.AsMemory(0, ProtocolLimits.MaxDataChunk), SocketFlags.None, ct).ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }

            if (read == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                stream.CompleteWrites();
                return;
            }

            // A server that closes right after its response: its end goes with the last bytes, in one frame write.
            if (TcpEnd.IsPending(socket))
            {
                await stream.WritePooledAsync(buffer, read, ct, complete: true).ConfigureAwait(false);
                return;
            }

            await stream.WritePooledAsync(buffer, read, ct).ConfigureAwait(false);
        }
    }
}
