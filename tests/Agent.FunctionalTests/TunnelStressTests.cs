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
}
