using System.Net;
using System.Net.Sockets;
using ClusterContext.Session;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// A loopback UDP socket standing in for one pod-side destination: what the app sends to it goes out of a UDP socket
/// the agent opened in the pod, and what comes back is delivered to the app from this address, which the receive
/// hooks show as the destination's. One per app socket
/// and destination, closed after a minute without traffic.
/// </summary>
internal sealed class UdpRelay : IDisposable
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(1);

    // Which pod-side destination each relay stands in for, by its loopback port: a receive from one is shown as from that destination.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(AddressFamily Family, int Port), IPEndPoint> s_destinations = new();
    private static int s_open;

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
        if (s_destinations.TryAdd((local.AddressFamily, EndPoint.Port), destination))
        {
            Interlocked.Increment(ref s_open);
        }

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

    /// <summary>
    /// When <paramref name="socketAddress"/> (a native sockaddr of <paramref name="length"/> bytes, just received into)
    /// is a relay's loopback address, rewrites it to the destination that relay stands in for.
    /// </summary>
    public static void ShowSender(int received, Span<byte> socketAddress, ref int length)
    {
        if (received < 0 || Volatile.Read(ref s_open) == 0 || length < 8)
        {
            return;
        }

        var family = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(socketAddress) switch
        {
            2 => AddressFamily.InterNetwork,
            10 => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        var loopback = family switch
        {
            AddressFamily.InterNetwork => socketAddress[4] == 127,
            AddressFamily.InterNetworkV6 => length >= 24 && socketAddress[8..24].SequenceEqual(IPAddress.IPv6Loopback.GetAddressBytes()),
            _ => false,
        };
        if (!loopback || !s_destinations.TryGetValue((family, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(socketAddress[2..])), out var destination))
        {
            return;
        }

        var shown = family == AddressFamily.InterNetworkV6 && destination.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(destination.Address.MapToIPv6(), destination.Port)
            : destination;
        var serialized = shown.Serialize();
        if (serialized.Size <= socketAddress.Length)
        {
            serialized.Buffer.Span[..serialized.Size].CopyTo(socketAddress);
            length = serialized.Size;
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested && s_destinations.TryRemove(new KeyValuePair<(AddressFamily, int), IPEndPoint>((_local.AddressFamily, EndPoint.Port), _destination)))
        {
            Interlocked.Decrement(ref s_open);
        }

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
