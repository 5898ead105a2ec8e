using System.Net;
using System.Net.Sockets;
using ClusterContext.Patching;
using ClusterContext.Protocol;
using ClusterContext.Session;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Outgoing TCP and UDP to pod-side destinations. TCP: the agent opens the connection in the pod first (so a refused
/// or unreachable destination fails the app's connect with the same error), then the app's socket is connected to a
/// one-time loopback listener joined to it. UDP: the app's datagrams to the destination go to a loopback relay that
/// sends them from the pod (a connected UDP socket is connected to the relay).
/// </summary>
internal static unsafe class ConnectHooks
{
    private const string Owner = "clustercontext.connect";

    private static RemoteCalls? s_remote;
    private static RemoteDestinations? s_destinations;
    private static nint s_connect;
    private static nint s_connectAsync;
    private static nint s_sendTo;
    private static nint s_sendToSpan;
    private static nint s_sendToAsync;
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Socket, Dictionary<IPEndPoint, UdpRelay>> s_relays = [];

    public static void Install(IMethodPatcher patcher, RemoteCalls remote, RemoteDestinations destinations)
    {
        s_remote = remote;
        s_destinations = destinations;
        Patch(patcher);
    }

    /// <summary>Puts the patches in place, once; until <see cref="Install"/> names the session, every call goes to the original.</summary>
    public static void Patch(IMethodPatcher patcher)
    {
        if (Patches(patcher) is { } set)
        {
            patcher.Patch([set]);
        }
    }

    /// <summary>The patches <see cref="Patch"/> puts in place, to be put in with other hooks' at once; null when in place already.</summary>
    // The originals are in place before any call can reach a replacement: other threads may be calling them.
    internal static PatchSet? Patches(IMethodPatcher patcher) => patcher.Owns(Owner) ? null : new(
        [
            (BclChokePoints.SocketConnect, Method(nameof(Connect))),
            (BclChokePoints.SocketConnectAsync, Method(nameof(ConnectAsync))),
            (BclChokePoints.SocketSendTo, Method(nameof(SendTo))),
            (BclChokePoints.SocketSendToSpan, Method(nameof(SendToSpan))),
            (BclChokePoints.SocketSendToAsync, Method(nameof(SendToAsync))),
        ],
        Owner,
        patches => (s_connect, s_connectAsync, s_sendTo, s_sendToSpan, s_sendToAsync) =
            (patches[0].Original, patches[1].Original, patches[2].Original, patches[3].Original, patches[4].Original));

    public static void Uninstall(IMethodPatcher patcher)
    {
        patcher.RemoveAll(Owner);
        s_remote = null;
    }

    public static void Connect(Socket socket, EndPoint endPoint, SocketAddress socketAddress)
    {
        if (Tunnel(socket, endPoint) is { } tunnel)
        {
            ((delegate*<Socket, EndPoint, SocketAddress, void>)s_connect)(socket, tunnel.Loopback, tunnel.Loopback.Serialize());
            SocketPresentation.Present(socket, (IPEndPoint)endPoint, tunnel.PodLocal);
            return;
        }

        ((delegate*<Socket, EndPoint, SocketAddress, void>)s_connect)(socket, endPoint, socketAddress);
    }

    public static int SendTo(Socket socket, byte[] buffer, int offset, int size, SocketFlags socketFlags, EndPoint remoteEP) =>
        ((delegate*<Socket, byte[], int, int, SocketFlags, EndPoint, int>)s_sendTo)(socket, buffer, offset, size, socketFlags, Relay(socket, remoteEP) ?? remoteEP);

    public static int SendToSpan(Socket socket, ReadOnlySpan<byte> buffer, SocketFlags socketFlags, EndPoint remoteEP) =>
        ((delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, EndPoint, int>)s_sendToSpan)(socket, buffer, socketFlags, Relay(socket, remoteEP) ?? remoteEP);

    public static ValueTask<int> SendToAsync(Socket socket, ReadOnlyMemory<byte> buffer, SocketFlags socketFlags, EndPoint remoteEP, CancellationToken cancellationToken) =>
        ((delegate*<Socket, ReadOnlyMemory<byte>, SocketFlags, EndPoint, CancellationToken, ValueTask<int>>)s_sendToAsync)(socket, buffer, socketFlags, Relay(socket, remoteEP) ?? remoteEP, cancellationToken);

    public static bool ConnectAsync(Socket socket, SocketAsyncEventArgs e, bool userSocket, bool saeaCancelable, CancellationToken cancellationToken)
    {
        (IPEndPoint Loopback, IPEndPoint? PodLocal)? redirected = null;
        var endPoint = e.RemoteEndPoint as IPEndPoint;
        if (endPoint is not null)
        {
            try
            {
                redirected = Tunnel(socket, endPoint);
            }
            catch (SocketException ex)
            {
                // As a socket's own failed connect: completed at once, the error in the event args (the multi-address
                // connect of a DnsEndPoint then tries the next address; the task APIs throw it as a SocketException).
                e.SocketError = ex.SocketErrorCode;
                return false;
            }
        }

        if (endPoint is null || redirected is not { } tunnel)
        {
            return ((delegate*<Socket, SocketAsyncEventArgs, bool, bool, CancellationToken, bool>)s_connectAsync)(socket, e, userSocket, saeaCancelable, cancellationToken);
        }

        // The socket reports the destination from the moment it is connected: set before the connect, which may
        // complete on another thread before this one returns. The event args get the app's end point back before
        // the app's Completed handler can look at it.
        SocketPresentation.Present(socket, endPoint, tunnel.PodLocal);
        var completion = ConnectCompletion.Intercept(e, endPoint);
        e.RemoteEndPoint = tunnel.Loopback;
        try
        {
            var pending = ((delegate*<Socket, SocketAsyncEventArgs, bool, bool, CancellationToken, bool>)s_connectAsync)(socket, e, userSocket, saeaCancelable, cancellationToken);
            if (!pending)
            {
                completion?.Release();
            }

            e.RemoteEndPoint = endPoint;
            return pending;
        }
        catch
        {
            completion?.Release();
            e.RemoteEndPoint = endPoint;
            SocketPresentation.Forget(socket);
            throw;
        }
    }

    /// <summary>The loopback relay for a pod-side UDP destination of this socket; null when the destination is local.</summary>
    private static IPEndPoint? Relay(Socket socket, EndPoint endPoint)
    {
        if (s_remote is not { } remote || s_destinations is not { } destinations || endPoint is not IPEndPoint destination
            || socket.SocketType != SocketType.Dgram || HookBypass.Active || !destinations.IsRemote(destination, ProtocolType.Udp))
        {
            return null;
        }

        var relays = s_relays.GetOrCreateValue(socket);
        lock (relays)
        {
            if (!relays.TryGetValue(destination, out var relay) || relay.IsClosed)
            {
                relay = UdpRelay.Start(remote, Unmap(destination), socket.AddressFamily);
                relays[destination] = relay;
            }

            var local = relay.EndPoint;
            return socket.AddressFamily == AddressFamily.InterNetworkV6 && local.AddressFamily == AddressFamily.InterNetwork
                ? new IPEndPoint(local.Address.MapToIPv6(), local.Port)
                : local;
        }
    }

    private static IPEndPoint Unmap(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    /// <summary>Where the app's socket connects instead of <paramref name="endPoint"/>, and the pod-side local end; null when the destination is local.</summary>
    private static (IPEndPoint Loopback, IPEndPoint? PodLocal)? Tunnel(Socket socket, EndPoint endPoint)
    {
        if (socket.SocketType == SocketType.Dgram)
        {
            return Relay(socket, endPoint) is { } relay ? (relay, null) : null;
        }

        if (s_remote is not { } remote || s_destinations is not { } destinations || endPoint is not IPEndPoint destination
            || socket.SocketType != SocketType.Stream || HookBypass.Active || !destinations.IsRemote(destination, ProtocolType.Tcp))
        {
            return null;
        }

        var address = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
        RemoteTcpConnection connection;
        try
        {
            connection = remote.Run(ct => remote.Agent.ConnectTcpAsync(address.ToString(), destination.Port, cancellationToken: ct), $"connect to {destination}");
        }
        catch (RemoteException ex)
        {
            throw new SocketException((int)(ex.Code switch
            {
                ErrorCode.ConnectionRefused => SocketError.ConnectionRefused,
                ErrorCode.Unreachable => SocketError.HostUnreachable,
                ErrorCode.TimedOut => SocketError.TimedOut,
                _ => SocketError.SocketError,
            }), $"{ex.Message} (connecting from the pod)");
        }

        return (TunnelListener.Start(connection, socket.AddressFamily), connection.LocalEndPoint);
    }

    private static System.Reflection.MethodInfo Method(string name) => typeof(ConnectHooks).GetMethod(name)!;
}
