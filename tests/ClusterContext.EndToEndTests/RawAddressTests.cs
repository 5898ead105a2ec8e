using System.Net;
using System.Net.Sockets;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// An unchanged app connecting to raw addresses it got from the pod (the kubelet's <c>REDIS_SERVICE_HOST</c>), not
/// from a name: through the pod by default, and its sockets report the pod-side peer and a pod-side local address.
/// </summary>
[Collection(PodGroup.Name)]
public sealed class RawAddressTests(PodFixture pod) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clustercontext-e2e-raw-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Dictionary<string, string?> Environment => new()
    {
        ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
        ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
    };

    private string Redis => $"{pod.Sandbox.RedisIP}:{ClusterContext.Testing.Sandbox.PodSandbox.RedisPort}";

    [Fact]
    public async Task A_SERVICE_HOST_address_from_the_pods_environment_is_reached_through_the_pod()
    {
        var run = await AppRun.RunAsync(Environment, _directory, "env:REDIS_SERVICE_HOST", "env:REDIS_PORT", "redis-env:REDIS");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run["env:REDIS_SERVICE_HOST"]);
        Assert.Equal($"tcp://{Redis}", run["env:REDIS_PORT"]);
        Assert.Equal($"+PONG [::ffff:{pod.Sandbox.RedisIP}]:{ClusterContext.Testing.Sandbox.PodSandbox.RedisPort}", run["redis-env:REDIS"]); // TcpClient's socket is dual-mode
    }

    [Fact]
    public async Task A_connect_the_pod_refuses_fails_each_async_api_the_way_a_socket_of_its_own_does()
    {
        // A port nothing listens on, at the redis service's address: refused in the pod.
        var refused = $"{pod.Sandbox.RedisIP}:{ClusterContext.Testing.Sandbox.PodSandbox.RedisPort + 1}";
        var run = await AppRun.RunAsync(Environment, _directory, $"connect-outcomes:{refused}", $"connect-outcomes:{Redis}");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("SocketAsyncEventArgs=ConnectionRefused;ConnectAsync=threw ConnectionRefused", run[$"connect-outcomes:{refused}"]);
        Assert.Equal("SocketAsyncEventArgs=Success;ConnectAsync=Success", run[$"connect-outcomes:{Redis}"]);
    }

    [Fact]
    public async Task With_default_local_a_raw_address_stays_local()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "clustercontext.json"), """{ "network": { "outgoing": { "default": "local" } } }""");
        var run = await AppRun.RunAsync(Environment, _directory, "redis-env:REDIS");

        // Made from this machine, where the services network is unreachable (the sandbox's host route says so at once).
        Assert.StartsWith("!SocketException", run["redis-env:REDIS"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_connect_api_reports_the_pod_side_peer_and_a_pod_side_local_address()
    {
        // What the same connection shows from inside the pod, made there directly.
        using var direct = pod.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await direct.ConnectAsync(pod.Sandbox.RedisIP, ClusterContext.Testing.Sandbox.PodSandbox.RedisPort);
        var expectedRemote = direct.RemoteEndPoint!.ToString();
        var podAddress = ((IPEndPoint)direct.LocalEndPoint!).Address; // the pod's address on the route to the service

        var run = await AppRun.RunAsync(Environment, _directory, "peers:REDIS");
        Assert.True(run.ExitCode == 0, run.Output);
        var views = run["peers:REDIS"].Split(';').Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
        Assert.Equal(14, views.Count);
        foreach (var (api, view) in views.Where(v => v.Key != "HttpClient.ConnectCallback"))
        {
            // TcpClient's own socket and Socket(SocketType, ProtocolType) are dual-mode: IPv4 peers show as IPv4-mapped.
            var dualMode = api.StartsWith("dual-mode", StringComparison.Ordinal)
                || api.StartsWith("TcpClient", StringComparison.Ordinal) || api.StartsWith("NetworkStream", StringComparison.Ordinal);
            var (remote, local) = (view.Split(' ')[0].Split('/')[0], view.Split(' ')[0].Split('/')[1]);
            Assert.True(remote == (dualMode ? $"[::ffff:{pod.Sandbox.RedisIP}]:{ClusterContext.Testing.Sandbox.PodSandbox.RedisPort}" : expectedRemote), $"{api}: {view}");
            var localEndPoint = IPEndPoint.Parse(local);
            Assert.True(localEndPoint.Address.Equals(dualMode ? podAddress.MapToIPv6() : podAddress) && localEndPoint.Port > 0, $"{api}: {view}");
        }

        Assert.EndsWith($" args={Redis}", views["static Socket.ConnectAsync(SocketAsyncEventArgs)"], StringComparison.Ordinal);
        Assert.Equal($"[::ffff:{pod.Sandbox.RedisIP}]:{ClusterContext.Testing.Sandbox.PodSandbox.RedisPort}", views["HttpClient.ConnectCallback"]);
    }
}
