using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Session;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// A loopback listener for exactly one connection, joined to a TCP connection the agent already opened in the pod.
/// The app's socket connects here, so every API above it (streams, SslStream, HttpClient) works unchanged.
/// </summary>
internal static class TunnelListener
{
    public static IPEndPoint Start(RemoteTcpConnection tunnel, AddressFamily family)
    {
        var address = family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen(1);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _ = RelayAsync(listener, tunnel);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        return family == AddressFamily.InterNetworkV6 ? endPoint : new IPEndPoint(IPAddress.Loopback, endPoint.Port);
    }

    private static async Task RelayAsync(Socket listener, RemoteTcpConnection tunnel)
    {
        Socket local;
        using (listener)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                local = await listener.AcceptAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                await tunnel.DisposeAsync().ConfigureAwait(false);
                return;
            }
        }

        local.NoDelay = true;
        var mux = (MuxStream)tunnel.Stream;
        await using (tunnel.ConfigureAwait(false))
        using (local)
        await using (var stream = new NetworkStream(local, ownsSocket: false))
        {
            var toPod = ToPodAsync(stream, mux);
            var fromPod = FromPodAsync(mux, local);
            try
            {
                var first = await Task.WhenAny(toPod, fromPod).ConfigureAwait(false);
                if (!first.IsCompletedSuccessfully)
                {
                    local.Close(0);
                }

                await Task.WhenAll(toPod, fromPod).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // One side ended abruptly; closing both is all that is left to do.
            }
        }
    }

    private static async Task ToPodAsync(NetworkStream app, MuxStream pod)
    {
        await app.CopyToAsync(pod, 64 * 1024).ConfigureAwait(false);
        pod.CompleteWrites();
    }

    // The pod's end reaches the app with the last bytes before it, not one wake-up later: a client that finds the
    // connection still open in between (HttpClient's pool after an HTTP/1.0 response) would send its next request on it.
    private static async Task FromPodAsync(MuxStream pod, Socket app)
    {
        while (true)
        {
            var result = await pod.ReadBufferAsync(CancellationToken.None).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCompleted)
            {
                await TcpEnd.SendLastAsync(app, buffer, CancellationToken.None).ConfigureAwait(false);
                pod.AdvanceBuffer(buffer, buffer.Length);
                return;
            }

            foreach (var segment in buffer)
            {
                await app.SendAsync(segment, SocketFlags.None).ConfigureAwait(false);
            }

            pod.AdvanceBuffer(buffer, buffer.Length);
        }
    }
}
