using System.Net;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Protocol.Messages;
using ClusterContext.Session;
using ClusterContext.Session.Incoming;

namespace ClusterContext.Tests.Session.Incoming;

public sealed class RestoredSessionTests
{
    [Fact]
    public async Task A_restored_session_subscribes_again_and_serves_the_new_agents_connections()
    {
        await using var first = await TestAgentPeer.StartAsync();
        TestAgentPeer? second = null;
        IncomingSubscriptions? subscriptions = null;
        var remote = new RemoteCalls(first.Client, TimeSpan.FromSeconds(10), "test-agent", async _ =>
        {
            second = await TestAgentPeer.StartAsync();
            subscriptions!.Serve(second.Client); // as the session's OpenAsync does for every new agent
            return second.Client;
        });
        subscriptions = new IncomingSubscriptions(new IncomingSettings { Mode = IncomingTrafficMode.Steal }, [8080], "app", remote, _ => { }, _ => { });
        subscriptions.Serve(first.Client);
        using var app = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        app.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        app.Listen();
        var localPort = ((IPEndPoint)app.LocalEndPoint!).Port;

        subscriptions.OnListen(app); // the only port and the only containerPort: mapped to 8080
        Assert.Contains(first.Seen, m => m is SubscribeRequest { Port: 8080 });

        await first.AgentSide.DisposeAsync(); // the agent goes away
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (second is null || !second.Seen.Any(m => m is SubscribeRequest { Port: 8080 }))
        {
            await Task.Delay(20, deadline.Token); // fails the test at the deadline
        }

        await using (second)
        {
            var accepted = app.AcceptAsync();
            var (_, stream) = await second.AgentSide.OpenStreamAsync<IncomingConnectionResponse>(new IncomingConnectionRequest(8080, IncomingMode.Steal,
                new IPEndPoint(IPAddress.Parse("10.0.0.9"), 40000), new IPEndPoint(IPAddress.Parse("10.0.0.5"), 8080)));
            using var connection = await accepted;
            await stream.WriteAsync(Encoding.ASCII.GetBytes("ping"));
            var buffer = new byte[4];
            var read = 0;
            while (read < 4)
            {
                read += await connection.ReceiveAsync(buffer.AsMemory(read));
            }

            Assert.Equal("ping", Encoding.ASCII.GetString(buffer));
            Assert.Equal(localPort, ((IPEndPoint)connection.LocalEndPoint!).Port);
            await stream.DisposeAsync();
        }
    }
}
