using System.Net;
using System.Text;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

/// <summary>Service <c>orders</c> seen from pod <c>client</c>, as another pod of the cluster sees it: by name, by cluster IP, and the pod IP.</summary>
public sealed class SandboxClusterServiceTests(SandboxClusterFixture fixture) : IClassFixture<SandboxClusterFixture>
{
    [Fact]
    public async Task Curl_from_the_client_pod_to_the_orders_service_gets_the_pods_answer()
    {
        var cluster = fixture.Cluster;

        var byName = await cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}/"]);
        var byPodIP = await cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"http://{cluster.Sandbox.PodIP}:{SandboxCluster.AppPort}/"]);
        var python = await cluster.RunInClientAsync("/usr/bin/python3", ["-c",
            "import http.client,sys; c=http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10); c.request('GET', '/'); r=c.getresponse(); print(r.status, r.read().decode())",
            SandboxCluster.OrdersIP.ToString(), SandboxCluster.AppPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        Assert.True(byName.ExitCode == 0, byName.StandardError);
        Assert.Equal(SandboxCluster.AppBody, byName.StandardOutput);
        Assert.True(byPodIP.ExitCode == 0, byPodIP.StandardError);
        Assert.Equal(SandboxCluster.AppBody, byPodIP.StandardOutput);
        Assert.True(python.ExitCode == 0, python.StandardError);
        Assert.Equal($"200 {SandboxCluster.AppBody}", python.StandardOutput.Trim());

        // The API double has the service (selecting the pod) and the client pod at the client's address.
        var service = cluster.Api.Get("services", SandboxCluster.Namespace, "orders")!;
        Assert.Equal(SandboxCluster.OrdersIP.ToString(), (string?)service["spec"]!["clusterIP"]);
        Assert.Equal(SandboxCluster.Deployment, (string?)service["spec"]!["selector"]!["app"]);
        var client = cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.ClientPod)!;
        Assert.Equal(cluster.Sandbox.ClientIP.ToString(), (string?)client["status"]!["podIP"]);
        Assert.Equal([SandboxCluster.OrdersIP], (await cluster.Sandbox.QueryDnsInPodAsync(SandboxCluster.OrdersHost)).Addresses);
    }

    [Fact]
    public async Task A_socket_of_the_client_pod_reaches_the_pod_from_the_clients_address()
    {
        using var socket = fixture.Cluster.CreateClientSocket();
        await socket.ConnectAsync(new IPEndPoint(SandboxCluster.OrdersIP, SandboxCluster.AppPort));

        Assert.Equal(fixture.Cluster.Sandbox.ClientIP, ((IPEndPoint)socket.LocalEndPoint!).Address);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: orders\r\n\r\n"));
        var answer = await new StreamReader(new System.Net.Sockets.NetworkStream(socket)).ReadToEndAsync();
        Assert.EndsWith("\r\n\r\n" + SandboxCluster.AppBody, answer, StringComparison.Ordinal);
    }
}
