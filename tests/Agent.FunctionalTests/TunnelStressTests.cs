using ClusterContext.Testing;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>Every byte of many parallel tunnelled connections arrives, both ways, however the two ends close.</summary>
[Collection(SandboxGroup.Name)]
public class TunnelStressTests(SandboxAgentFixture fixture)
{
    [Fact]
    public async Task Parallel_tcp_connections_to_a_server_that_closes_at_once_keep_every_byte_both_ways()
    {
        var stress = new TcpTunnelStress(Environment.TickCount, connections: 300, maxBytes: 3 * 1024 * 1024);

        var failure = await stress.RunInPodAsync(fixture.Sandbox, _ => fixture.ConnectAsync(), TimeSpan.FromSeconds(90));

        Assert.True(failure is null, failure);
    }

    [Fact]
    public async Task Udp_datagrams_through_the_agent_keep_their_boundaries_and_none_is_duplicated()
    {
        var stress = new UdpTunnelStress(Environment.TickCount, datagrams: 3000, window: 8);

        var failure = await stress.RunInPodAsync(fixture.Sandbox, _ => fixture.ConnectAsync(), TimeSpan.FromSeconds(90));

        Assert.True(failure is null, failure);
    }
}
