using System.Net;
using System.Net.Sockets;
using ClusterContext.Patching;
using ClusterContext.Session.Incoming;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// The app starts listening (Kestrel, TcpListener and Socket.Listen all pass here): once its own Listen succeeded,
/// the port's pod port is subscribed for incoming traffic. A socket bound to port 0 is left alone: the system chose
/// its port, so no client in the pod can know it (test servers, callbacks). Installed only when
/// <c>network.incoming.mode</c> is on.
/// </summary>
internal static unsafe class ListenHooks
{
    private const string Owner = "clustercontext.listen";

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Socket, object> s_ephemeral = [];
    private static IncomingSubscriptions? s_subscriptions;
    private static nint s_listen;
    private static nint s_bind;

    public static void Install(IMethodPatcher patcher, IncomingSubscriptions subscriptions)
    {
        s_subscriptions = subscriptions;
        Patch(patcher);
    }

    /// <summary>Puts the patches in place, once; until <see cref="Install"/> names the subscriptions, listening is not reported.</summary>
    public static void Patch(IMethodPatcher patcher)
    {
        if (Patches(patcher) is { } set)
        {
            patcher.Patch([set]);
        }
    }

    /// <summary>The patches <see cref="Patch"/> puts in place, to be put in with other hooks' at once; null when in place already.</summary>
    internal static PatchSet? Patches(IMethodPatcher patcher) => patcher.Owns(Owner) ? null : new(
        [
            (BclChokePoints.SocketBind, typeof(ListenHooks).GetMethod(nameof(Bind))!),
            (BclChokePoints.SocketListen, typeof(ListenHooks).GetMethod(nameof(Listen))!),
        ],
        Owner,
        patches => (s_bind, s_listen) = (patches[0].Original, patches[1].Original));

    public static void Uninstall(IMethodPatcher patcher)
    {
        patcher.RemoveAll(Owner);
        s_subscriptions = null;
    }

    public static void Bind(Socket socket, EndPoint endPointSnapshot, SocketAddress socketAddress)
    {
        ((delegate*<Socket, EndPoint, SocketAddress, void>)s_bind)(socket, endPointSnapshot, socketAddress);
        if (endPointSnapshot is IPEndPoint { Port: 0 } && socket.SocketType == SocketType.Stream)
        {
            s_ephemeral.AddOrUpdate(socket, s_ephemeral);
        }
    }

    public static void Listen(Socket socket, int backlog)
    {
        ((delegate*<Socket, int, void>)s_listen)(socket, backlog);
        if (s_subscriptions is { } subscriptions && socket.SocketType == SocketType.Stream && !HookBypass.Active && !s_ephemeral.TryGetValue(socket, out _))
        {
            subscriptions.OnListen(socket);
        }
    }
}
