using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// Connections to the pod's own app on one port, from the agent: over loopback first (where apps usually listen),
/// else at the address the client meant (an app bound to the pod IP only). Every socket carries the redirect's
/// exempt mark, so the redirect never sends the agent's own connection back to the agent. Idle keep-alive
/// connections are pooled: a request the filter does not match costs no new handshake.
/// </summary>
internal sealed class OriginalApp(ushort port, ILogger logger)
{
    private const int MaxIdle = 64;
    private static int s_markWarned;

    private readonly ConcurrentBag<UpstreamConnection> _idle = [];

    public ushort Port { get; } = port;

    public async Task<UpstreamConnection> RentAsync(IPEndPoint destination, CancellationToken ct)
    {
        while (_idle.TryTake(out var pooled))
        {
            if (pooled.IsIdleAndOpen)
            {
                return pooled;
            }

            await pooled.DisposeAsync().ConfigureAwait(false);
        }

        var socket = await ConnectAsync(destination, ct).ConfigureAwait(false);
        return new UpstreamConnection(new NetworkStream(socket, ownsSocket: false), socket);
    }

    /// <summary>Gives back a connection whose last exchange ended cleanly and may be kept alive.</summary>
    public async ValueTask ReturnAsync(UpstreamConnection connection)
    {
        if (_idle.Count >= MaxIdle)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return;
        }

        _idle.Add(connection);
    }

    public async Task<Socket> ConnectAsync(IPEndPoint destination, CancellationToken ct)
    {
        var loopback = destination.AddressFamily == AddressFamily.InterNetworkV6 && !destination.Address.IsIPv4MappedToIPv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        try
        {
            return await ConnectOnceAsync(new IPEndPoint(loopback, Port), ct).ConfigureAwait(false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused && !IPAddress.IsLoopback(destination.Address))
        {
            var address = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
            return await ConnectOnceAsync(new IPEndPoint(address, Port), ct).ConfigureAwait(false);
        }
    }

    private async Task<Socket> ConnectOnceAsync(IPEndPoint endPoint, CancellationToken ct)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (!SocketOptions.TryMark(socket, IPortRedirector.ExemptMark) && Interlocked.Exchange(ref s_markWarned, 1) == 0)
            {
                IncomingLog.MarkRefused(logger, IPortRedirector.ExemptMark);
            }

            await socket.ConnectAsync(endPoint, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
