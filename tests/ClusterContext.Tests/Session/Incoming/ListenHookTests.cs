using System.Net;
using System.Net.Sockets;
using ClusterContext.Hooks.Network;
using ClusterContext.Patching;
using ClusterContext.Protocol.Messages;
using ClusterContext.Session;
using ClusterContext.Session.Incoming;
using ClusterContext.Tests.Patching;

namespace ClusterContext.Tests.Session.Incoming;

/// <summary>
/// The listen hook, really patched into Socket.Bind and Socket.Listen: TcpListener and Socket.Listen on a chosen port
/// subscribe it; a port the system chose (bound to 0) and the session's own listeners do not; nothing after uninstall.
/// </summary>
[Collection(PatchingGroup.Name)]
public sealed class ListenHookTests
{
    [Fact]
    public async Task Chosen_ports_subscribe_system_chosen_and_own_ones_do_not_and_nothing_does_after_uninstall()
    {
        await using var agent = await TestAgentPeer.StartAsync();
        var remote = new RemoteCalls(agent.Client, TimeSpan.FromSeconds(10), "test-agent");
        var subscriptions = new IncomingSubscriptions(new IncomingSettings { Mode = IncomingTrafficMode.Steal }, [], "app", remote, _ => { }, _ => { });
        subscriptions.Serve(agent.Client);
        int[] Subscribed() => [.. agent.Seen.OfType<SubscribeRequest>().Select(s => (int)s.Port)];

        ListenHooks.Install(MethodPatcher.Shared, subscriptions);
        int chosenByTcpListener, chosenBySocket, systemChosen, tunnel;
        try
        {
            using var tcpListener = new TcpListener(IPAddress.Loopback, chosenByTcpListener = FreePort());
            tcpListener.Start();
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, chosenBySocket = FreePort()));
            socket.Listen();
            using var ephemeral = new TcpListener(IPAddress.Loopback, 0);
            ephemeral.Start();
            systemChosen = ((IPEndPoint)ephemeral.LocalEndpoint).Port;
            tunnel = TunnelListener.Start(new RemoteTcpConnection(new IPEndPoint(0, 1), new IPEndPoint(0, 2), Stream.Null), AddressFamily.InterNetwork).Port;

            Assert.Contains(chosenByTcpListener, Subscribed());
            Assert.Contains(chosenBySocket, Subscribed());
            Assert.DoesNotContain(systemChosen, Subscribed());
            Assert.DoesNotContain(tunnel, Subscribed());
            Assert.All(agent.Seen.OfType<SubscribeRequest>(), s => Assert.Equal(new SubscribeRequest(s.Port, IncomingMode.Steal, null), s));
        }
        finally
        {
            ListenHooks.Uninstall(MethodPatcher.Shared);
        }

        var count = Subscribed().Length;
        using var after = new TcpListener(IPAddress.Loopback, FreePort());
        after.Start();
        Assert.Equal(count, Subscribed().Length);
    }

    /// <summary>A port free right now (taken from the system, then released), to listen on as an app that chose it would.</summary>
    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        probe.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
