using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Makes a socket redirected to a loopback stand-in (tunnel listener, UDP relay) report the destination the app asked
/// for. <see cref="Socket.RemoteEndPoint"/> and <see cref="Socket.LocalEndPoint"/> return the socket's cached values
/// when it has them and only ask the kernel (getpeername, getsockname) when not, so setting the caches is all it takes;
/// the BCL sets neither on connect.
/// </summary>
internal static class SocketPresentation
{
    /// <summary>Whether this runtime's <see cref="Socket"/> has the caches (a runtime without them keeps the kernel's view).</summary>
    public static bool Available { get; } = Probe();

    /// <summary>Sets what the socket reports: <paramref name="remote"/> as its peer, <paramref name="local"/> (when known) as its own address.</summary>
    public static void Present(Socket socket, IPEndPoint remote, IPEndPoint? local)
    {
        if (!Available)
        {
            return;
        }

        RemoteEndPointCache(socket) = AsSeenBy(socket, remote);
        if (local is not null && !local.Address.Equals(IPAddress.Any) && !local.Address.Equals(IPAddress.IPv6Any))
        {
            LocalEndPointCache(socket) = AsSeenBy(socket, local);
        }
    }

    /// <summary>Forgets what <see cref="Present"/> set (a redirected connect that failed).</summary>
    public static void Forget(Socket socket)
    {
        if (Available)
        {
            RemoteEndPointCache(socket) = null;
            LocalEndPointCache(socket) = null;
        }
    }

    /// <summary>An address as a socket of <paramref name="socket"/>'s family reports it: IPv4 as IPv4-mapped on an IPv6 (dual-mode) socket.</summary>
    public static IPEndPoint AsSeenBy(Socket socket, IPEndPoint endPoint) =>
        socket.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(endPoint.Address.MapToIPv6(), endPoint.Port)
            : socket.AddressFamily == AddressFamily.InterNetwork && endPoint.Address.IsIPv4MappedToIPv6
                ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port)
                : endPoint;

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_remoteEndPoint")]
    private static extern ref EndPoint? RemoteEndPointCache(Socket socket);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_localEndPoint")]
    private static extern ref EndPoint? LocalEndPointCache(Socket socket);

    private static bool Probe()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _ = RemoteEndPointCache(socket);
            _ = LocalEndPointCache(socket);
            return true;
        }
        catch (MissingFieldException)
        {
            return false;
        }
    }
}
