using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using ClusterContext.Testing;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Benchmarks.Kube;

/// <summary>
/// The Kubernetes API double with deployment/orders, whose ephemeral containers are agents of this build on loopback
/// ports (the "pod port" of a port-forward is the newest one), and KUBECONFIG naming it for this process.
/// </summary>
internal sealed class ApiDoubleAgents : IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, AgentProcess> _agents = new();
    private AgentProcess? _latest;

    private ApiDoubleAgents(KubeApiServer server) => Server = server;

    public KubeApiServer Server { get; }

    public string Kubeconfig { get; private set; } = "";

    public static async Task<ApiDoubleAgents> StartAsync()
    {
        var server = await KubeApiServer.StartAsync();
        var cluster = new ApiDoubleAgents(server);
        server.Put("deployments", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders","namespace":"shop"},"spec":{"selector":{"matchLabels":{"app":"orders"}}}}""")!);
        server.Put("pods", (JsonObject)JsonNode.Parse("""
            {"metadata":{"name":"orders-1","namespace":"shop","labels":{"app":"orders"}},"spec":{"containers":[{"name":"app","image":"a"}]},
             "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}
            """)!);
        server.StartEphemeralContainer = async (_, _, container) =>
        {
            // The spec carries the session token's digest only: the agent admits the session's port-forward alone.
            var arguments = container["args"]!.AsArray().Select(a => (string)a!).ToList();
            var digest = arguments[arguments.IndexOf("--token-sha256") + 1];
            var agent = await AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--token-sha256", digest, "--idle-timeout", "30"]);
            cluster._agents[agent.EndPoint.Port] = agent;
            cluster._latest = agent;
            return new JsonObject { ["running"] = new JsonObject() };
        };
        server.PortForwardTarget = (_, _, _) => cluster._latest?.EndPoint;
        cluster.Kubeconfig = server.WriteKubeconfig(Path.Combine(Path.GetTempPath(), $"bench-kubeconfig-{Environment.ProcessId}"), "bench");
        Environment.SetEnvironmentVariable("KUBECONFIG", cluster.Kubeconfig);
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        File.Delete(Kubeconfig);
        foreach (var agent in _agents.Values)
        {
            await agent.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}
