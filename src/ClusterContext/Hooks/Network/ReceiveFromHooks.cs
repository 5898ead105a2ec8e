using System.Net;
using System.Net.Sockets;
using ClusterContext.Patching;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Datagrams from the pod reach the app from its loopback relay: every receive that reports the sender is rewritten
/// so that it reports the pod-side address the app sent to, as a reply straight from it would (a client that checks
/// the reply's source, as DNS clients do, would drop it otherwise).
/// </summary>
internal static unsafe class ReceiveFromHooks
{
    private const string Owner = "clustercontext.receive-from";

    private static nint s_receive;
    private static nint s_receiveList;
    private static nint s_receiveMessage;
    private static nint s_receiveMessageList;

    /// <summary>Puts the patches in place, once.</summary>
    public static void Install(IMethodPatcher patcher)
    {
        if (Patches(patcher) is { } set)
        {
            patcher.Patch([set]);
        }
    }

    /// <summary>The patches <see cref="Install"/> puts in place, to be put in with other hooks' at once; null when in place already.</summary>
    internal static PatchSet? Patches(IMethodPatcher patcher) => patcher.Owns(Owner) ? null : new(
        [
            (BclChokePoints.SocketReceiveFrom, Method(nameof(Receive))),
            (BclChokePoints.SocketReceiveFromList, Method(nameof(ReceiveList))),
            (BclChokePoints.SocketReceiveMessageFrom, Method(nameof(ReceiveMessage))),
            (BclChokePoints.SocketReceiveMessageFromList, Method(nameof(ReceiveMessageList))),
        ],
        Owner,
        patches => (s_receive, s_receiveList, s_receiveMessage, s_receiveMessageList) =
            (patches[0].Original, patches[1].Original, patches[2].Original, patches[3].Original));

    public static void Uninstall(IMethodPatcher patcher) => patcher.RemoveAll(Owner);

    // The last parameter is the runtime's internal Interop.Error, an int.
    public static int Receive(SafeSocketHandle socket, SocketFlags flags, Span<byte> buffer, Span<byte> socketAddress, ref int socketAddressLen, ref SocketFlags receivedFlags, ref int errno)
    {
        var received = ((delegate*<SafeSocketHandle, SocketFlags, Span<byte>, Span<byte>, ref int, ref SocketFlags, ref int, int>)s_receive)(
            socket, flags, buffer, socketAddress, ref socketAddressLen, ref receivedFlags, ref errno);
        UdpRelay.ShowSender(received, socketAddress, ref socketAddressLen);
        return received;
    }

    public static int ReceiveList(SafeSocketHandle socket, SocketFlags flags, IList<ArraySegment<byte>> buffers, Span<byte> socketAddress, ref int socketAddressLen, ref SocketFlags receivedFlags, ref int errno)
    {
        var received = ((delegate*<SafeSocketHandle, SocketFlags, IList<ArraySegment<byte>>, Span<byte>, ref int, ref SocketFlags, ref int, int>)s_receiveList)(
            socket, flags, buffers, socketAddress, ref socketAddressLen, ref receivedFlags, ref errno);
        UdpRelay.ShowSender(received, socketAddress, ref socketAddressLen);
        return received;
    }

    public static int ReceiveMessage(SafeSocketHandle socket, SocketFlags flags, Span<byte> buffer, Span<byte> socketAddress, ref int socketAddressLen, bool isIPv4, bool isIPv6,
        ref SocketFlags receivedFlags, ref IPPacketInformation ipPacketInformation, ref int errno)
    {
        var received = ((delegate*<SafeSocketHandle, SocketFlags, Span<byte>, Span<byte>, ref int, bool, bool, ref SocketFlags, ref IPPacketInformation, ref int, int>)s_receiveMessage)(
            socket, flags, buffer, socketAddress, ref socketAddressLen, isIPv4, isIPv6, ref receivedFlags, ref ipPacketInformation, ref errno);
        UdpRelay.ShowSender(received, socketAddress, ref socketAddressLen);
        return received;
    }

    public static int ReceiveMessageList(SafeSocketHandle socket, SocketFlags flags, IList<ArraySegment<byte>> buffers, Span<byte> socketAddress, ref int socketAddressLen, bool isIPv4, bool isIPv6,
        ref SocketFlags receivedFlags, ref IPPacketInformation ipPacketInformation, ref int errno)
    {
        var received = ((delegate*<SafeSocketHandle, SocketFlags, IList<ArraySegment<byte>>, Span<byte>, ref int, bool, bool, ref SocketFlags, ref IPPacketInformation, ref int, int>)s_receiveMessageList)(
            socket, flags, buffers, socketAddress, ref socketAddressLen, isIPv4, isIPv6, ref receivedFlags, ref ipPacketInformation, ref errno);
        UdpRelay.ShowSender(received, socketAddress, ref socketAddressLen);
        return received;
    }

    private static System.Reflection.MethodInfo Method(string name) => typeof(ReceiveFromHooks).GetMethod(name)!;
}
