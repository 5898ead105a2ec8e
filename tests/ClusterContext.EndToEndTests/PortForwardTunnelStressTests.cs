using System.Net;
using System.Text.Json.Nodes;
using ClusterContext.Kube;
using ClusterContext.Session;
using ClusterContext.Testing;
using ClusterContext.Testing.Kube;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The tunnel stress of the agent's functional tests, with the session carried the way it is in a cluster: over a
/// WebSocket port-forward through the Kubernetes API (the double), so its framing sits between the two ends.
/// </summary>
[Collection(PodGroup.Name)]
public sealed class PortForwardTunnelStressTests(PodFixture pod)
{
    [Fact]
    public async Task Parallel_tcp_connections_over_a_port_forwarded_session_keep_every_byte_both_ways()
    {
        var stress = new TcpTunnelStress(Environment.TickCount, connections: 200, maxBytes: 2 * 1024 * 1024);
        await using var server = await KubeApiServer.StartAsync();

        var failure = await stress.RunInPodAsync(pod.Sandbox, ct => ConnectThroughPortForwardAsync(server, ct), TimeSpan.FromSeconds(120));

        Assert.True(failure is null, failure);
    }

    [Fact]
    public async Task Udp_datagrams_over_a_port_forwarded_session_keep_their_boundaries_and_none_is_duplicated()
    {
        var stress = new UdpTunnelStress(Environment.TickCount, datagrams: 2000, window: 8);
        await using var server = await KubeApiServer.StartAsync();

        var failure = await stress.RunInPodAsync(pod.Sandbox, ct => ConnectThroughPortForwardAsync(server, ct), TimeSpan.FromSeconds(90));

        Assert.True(failure is null, failure);
    }

    /// <summary>A session with the fixture's agent over a port-forward to the pod's agent port through <paramref name="server"/>.</summary>
    private async Task<AgentClient> ConnectThroughPortForwardAsync(KubeApiServer server, CancellationToken cancellationToken)
    {
        server.AddToken("t", "tester");
        server.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders-1","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"a"}]}}""")!);
        server.PortForwardTarget = (ns, name, target) => (ns, name, target) == ("shop", "orders-1", PodFixture.AgentPort) ? new IPEndPoint(pod.Sandbox.PodIP, PodFixture.AgentPort) : null;
        var api = new KubeApiClient(new KubeEndpoint("test", server.Address, "shop", server.Pki.AuthorityPem, false, null, null, new KubeCredentials(Token: "t")));
        var transport = await PortForwardStream.OpenAsync(api, "shop", "orders-1", PodFixture.AgentPort, cancellationToken);
        transport.DisposeWith(api);
        return await AgentClient.ConnectAsync(transport, PodFixture.Token, "port-forward stress", cancellationToken: cancellationToken);
    }
}
