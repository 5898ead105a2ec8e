using System.Net;
using System.Net.Sockets;
using ClusterContext.Session;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// A loopback UDP socket standing in for one pod-side destination: what the app sends to it goes out of a UDP socket
/// the agent opened in the pod, and what comes back is delivered to the app from this address. One per app socket
/// and destination, closed after a minute without traffic.
/// </summary>
internal sealed class UdpRelay : IDisposable
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(1);

    private readonly Socket _local;
    private readonly RemoteUdpSocket _remote;
    private readonly IPEndPoint _destination;
    private readonly CancellationTokenSource _stop = new();
    private EndPoint? _app;
    private long _lastTraffic = Environment.TickCount64;

    private UdpRelay(Socket local, RemoteUdpSocket remote, IPEndPoint destination)
    {
        _local = local;
        _remote = remote;
        _destination = destination;
        _ = ToPodAsync();
        _ = FromPodAsync();
        _ = CloseWhenIdleAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_local.LocalEndPoint!;

    public bool IsClosed => _stop.IsCancellationRequested;

    public static UdpRelay Start(RemoteCalls remote, IPEndPoint destination, AddressFamily family)
    {
        var socket = remote.Run(ct => remote.Agent.OpenUdpAsync(destination.AddressFamily == AddressFamily.InterNetworkV6, ct), $"open a UDP socket for {destination}");
        var local = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        local.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        return new UdpRelay(local, socket, destination);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _local.Dispose();
        _ = _remote.DisposeAsync().AsTask();
    }

    private async Task ToPodAsync()
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var received = await _local.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(_local.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
                _app = received.RemoteEndPoint;
                _lastTraffic = Environment.TickCount64;
                await _remote.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), _destination, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            Dispose();
        }
    }

    private async Task FromPodAsync()
    {
        try
        {
            while (true)
            {
                var (_, datagram) = await _remote.ReceiveFromAsync(_stop.Token).ConfigureAwait(false);
                _lastTraffic = Environment.TickCount64;
                if (_app is { } app)
                {
                    await _local.SendToAsync(datagram, SocketFlags.None, app, _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            Dispose();
        }
    }

    private async Task CloseWhenIdleAsync()
    {
        try
        {
            while (Environment.TickCount64 - Interlocked.Read(ref _lastTraffic) < IdleTimeout.TotalMilliseconds)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token).ConfigureAwait(false);
            }

            Dispose();
        }
        catch (OperationCanceledException)
        {
        }
    }
}
