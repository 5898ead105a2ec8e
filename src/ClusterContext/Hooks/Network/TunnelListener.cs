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
        using var own = HookBypass.Enter(); // the session's own listener: never a port to subscribe
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
        await using (tunnel.ConfigureAwait(false))
        using (local)
        {
            await SocketSplice.RunAsync(local, (MuxStream)tunnel.Stream).ConfigureAwait(false);
        }
    }
}
