using System.Net;
using System.Net.Sockets;
using ClusterContext.Patching;
using ClusterContext.Protocol;
using ClusterContext.Session;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Outgoing TCP to pod-side destinations: the agent opens the connection in the pod first (so a refused or
/// unreachable destination fails the app's connect with the same error), then the app's socket is connected to a
/// one-time loopback listener joined to it.
/// </summary>
internal static unsafe class ConnectHooks
{
    private const string Owner = "clustercontext.connect";

    private static RemoteCalls? s_remote;
    private static RemoteDestinations? s_destinations;
    private static nint s_connect;
    private static nint s_connectAsync;

    public static void Install(IMethodPatcher patcher, RemoteCalls remote, RemoteDestinations destinations)
    {
        s_remote = remote;
        s_destinations = destinations;
        s_connect = patcher.Patch(BclChokePoints.SocketConnect, typeof(ConnectHooks).GetMethod(nameof(Connect))!, Owner).Original;
        s_connectAsync = patcher.Patch(BclChokePoints.SocketConnectAsync, typeof(ConnectHooks).GetMethod(nameof(ConnectAsync))!, Owner).Original;
    }

    public static void Uninstall(IMethodPatcher patcher)
    {
        patcher.RemoveAll(Owner);
        s_remote = null;
    }

    public static void Connect(Socket socket, EndPoint endPoint, SocketAddress socketAddress)
    {
        if (Tunnel(socket, endPoint) is { } local)
        {
            ((delegate*<Socket, EndPoint, SocketAddress, void>)s_connect)(socket, local, local.Serialize());
            return;
        }

        ((delegate*<Socket, EndPoint, SocketAddress, void>)s_connect)(socket, endPoint, socketAddress);
    }

    public static bool ConnectAsync(Socket socket, SocketAsyncEventArgs e, bool userSocket, bool saeaCancelable, CancellationToken cancellationToken)
    {
        if (e.RemoteEndPoint is { } endPoint && Tunnel(socket, endPoint) is { } local)
        {
            e.RemoteEndPoint = local;
        }

        return ((delegate*<Socket, SocketAsyncEventArgs, bool, bool, CancellationToken, bool>)s_connectAsync)(socket, e, userSocket, saeaCancelable, cancellationToken);
    }

    private static IPEndPoint? Tunnel(Socket socket, EndPoint endPoint)
    {
        if (s_remote is not { } remote || s_destinations is not { } destinations || endPoint is not IPEndPoint destination
            || socket.SocketType != SocketType.Stream || !destinations.IsRemote(destination, ProtocolType.Tcp))
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

        return TunnelListener.Start(connection, socket.AddressFamily);
    }
}
