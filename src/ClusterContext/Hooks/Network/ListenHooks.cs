using System.Net.Sockets;
using ClusterContext.Patching;
using ClusterContext.Session.Incoming;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// The app starts listening (Kestrel, TcpListener and Socket.Listen all pass here): once its own Listen succeeded,
/// the port's pod port is subscribed for incoming traffic. Installed only when <c>network.incoming.mode</c> is on.
/// </summary>
internal static unsafe class ListenHooks
{
    private const string Owner = "clustercontext.listen";

    private static IncomingSubscriptions? s_subscriptions;
    private static nint s_listen;

    public static void Install(IMethodPatcher patcher, IncomingSubscriptions subscriptions)
    {
        s_subscriptions = subscriptions;
        patcher.Patch([(BclChokePoints.SocketListen, typeof(ListenHooks).GetMethod(nameof(Listen))!)], Owner, patches => s_listen = patches[0].Original);
    }

    public static void Uninstall(IMethodPatcher patcher)
    {
        patcher.RemoveAll(Owner);
        s_subscriptions = null;
    }

    public static void Listen(Socket socket, int backlog)
    {
        ((delegate*<Socket, int, void>)s_listen)(socket, backlog);
        if (s_subscriptions is { } subscriptions && socket.SocketType == SocketType.Stream && !HookBypass.Active)
        {
            subscriptions.OnListen(socket);
        }
    }
}
