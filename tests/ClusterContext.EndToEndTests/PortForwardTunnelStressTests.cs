using System.Net;
using System.Net.Sockets;
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
        var seed = Environment.TickCount;
        var stress = new TcpTunnelStress(seed, connections: 200, maxBytes: 2 * 1024 * 1024);
        using var listener = pod.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(512);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var serving = stress.ServeAsync(listener, timeout.Token);

        await using var server = await KubeApiServer.StartAsync();
        await using var client = await ConnectThroughPortForwardAsync(server, timeout.Token);

        var failure = await stress.RunAsync(async ct => (await client.ConnectTcpAsync("127.0.0.1", port, cancellationToken: ct)).Stream, parallel: 32, timeout.Token);

        Assert.True(failure is null, failure);
        await serving.WaitAsync(timeout.Token);
    }

    [Fact]
    public async Task Udp_datagrams_over_a_port_forwarded_session_keep_their_boundaries_and_none_is_duplicated()
    {
        var stress = new UdpTunnelStress(Environment.TickCount, datagrams: 2000, window: 8);
        using var echo = pod.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var echoing = stress.EchoAsync(echo, timeout.Token);
        await using var server = await KubeApiServer.StartAsync();
        await using var client = await ConnectThroughPortForwardAsync(server, timeout.Token);
        var socket = await client.OpenUdpAsync(cancellationToken: timeout.Token);
        await using (socket)
        {
            var failure = await stress.RunAsync(socket, (IPEndPoint)echo.LocalEndPoint!, timeout.Token);

            Assert.True(failure is null, failure);
        }

        await timeout.CancelAsync();
        await echoing;
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
