using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>Every byte of many parallel tunnelled connections arrives, both ways, however the two ends close.</summary>
[Collection(SandboxGroup.Name)]
public class TunnelStressTests(SandboxAgentFixture fixture)
{
    [Fact]
    public async Task Parallel_tcp_connections_to_a_server_that_closes_at_once_keep_every_byte_both_ways()
    {
        var seed = Environment.TickCount;
        var stress = new TcpTunnelStress(seed, connections: 300, maxBytes: 3 * 1024 * 1024);
        using var listener = fixture.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(512);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var serving = stress.ServeAsync(listener, timeout.Token);
        await using var client = await fixture.ConnectAsync();

        var failure = await stress.RunAsync(async ct => (await client.ConnectTcpAsync("127.0.0.1", port, cancellationToken: ct)).Stream, parallel: 32, timeout.Token);

        Assert.True(failure is null, failure);
        await serving.WaitAsync(timeout.Token);
    }

    [Fact]
    public async Task Udp_datagrams_through_the_agent_keep_their_boundaries_and_none_is_duplicated()
    {
        var stress = new UdpTunnelStress(Environment.TickCount, datagrams: 3000, window: 8);
        using var echo = fixture.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var echoing = stress.EchoAsync(echo, timeout.Token);
        await using var client = await fixture.ConnectAsync();
        var socket = await client.OpenUdpAsync(cancellationToken: timeout.Token);
        await using (socket)
        {
            var failure = await stress.RunAsync(socket, (IPEndPoint)echo.LocalEndPoint!, timeout.Token);

            Assert.True(failure is null, failure);
        }

        await timeout.CancelAsync();
        await echoing;
    }
}
