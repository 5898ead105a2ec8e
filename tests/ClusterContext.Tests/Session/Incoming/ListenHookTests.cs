using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Hooks.Network;
using ClusterContext.Patching;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Session;
using ClusterContext.Session.Incoming;
using ClusterContext.Tests.Patching;

namespace ClusterContext.Tests.Session.Incoming;

/// <summary>The listen hook, really patched into Socket.Listen: TcpListener and Socket.Listen subscribe the mapped port, the session's own listeners do not.</summary>
[Collection(PatchingGroup.Name)]
public sealed class ListenHookTests
{
    [Fact]
    public async Task TcpListener_and_Socket_Listen_subscribe_and_nothing_does_after_uninstall()
    {
        var seen = new ConcurrentQueue<SubscribeRequest>();
        var toAgent = new Pipe();
        var toSession = new Pipe();
        var accepted = MuxConnection.AcceptAsync(new Duplex(toAgent.Reader, toSession.Writer),
            _ => new WelcomeMessage(ProtocolLimits.Version, "test-agent", "s1", 1, 0), request =>
            {
                if (request.Message is SubscribeRequest subscribe)
                {
                    seen.Enqueue(subscribe);
                    request.Respond(new SubscribeResponse(""));
                }
                else
                {
                    request.Respond(new UnsubscribeResponse());
                }

                return Task.CompletedTask;
            });
        await using var client = await AgentClient.ConnectAsync(new Duplex(toSession.Reader, toAgent.Writer), "token");
        await using var agentSide = await accepted;
        var remote = new RemoteCalls(client, TimeSpan.FromSeconds(10), "test-agent");
        var settings = new IncomingSettings { Mode = IncomingTrafficMode.Steal };
        var subscriptions = new IncomingSubscriptions(settings, [], "app", remote, _ => { }, _ => { });
        subscriptions.Serve(client);

        using var reservedLike = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reservedLike.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var rawPort = ((IPEndPoint)reservedLike.LocalEndPoint!).Port;
        var tcpListener = new TcpListener(IPAddress.Loopback, 0);
        ListenHooks.Install(MethodPatcher.Shared, subscriptions);
        try
        {
            tcpListener.Start();
            reservedLike.Listen();
            var tunnel = TunnelListener.Start(new RemoteTcpConnection(new IPEndPoint(0, 1), new IPEndPoint(0, 2), Stream.Null), AddressFamily.InterNetwork);

            var tcpPort = ((IPEndPoint)tcpListener.LocalEndpoint).Port;
            Assert.Contains(seen, s => s.Port == tcpPort && s.Mode == IncomingMode.Steal && s.Filter is null);
            Assert.Contains(seen, s => s.Port == rawPort);
            Assert.DoesNotContain(seen, s => s.Port == tunnel.Port);
        }
        finally
        {
            ListenHooks.Uninstall(MethodPatcher.Shared);
            tcpListener.Stop();
        }

        var count = seen.Count;
        using var after = new TcpListener(IPAddress.Loopback, 0);
        after.Start();
        Assert.Equal(count, seen.Count);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
