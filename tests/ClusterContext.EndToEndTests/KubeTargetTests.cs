using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using ClusterContext.Testing;
using ClusterContext.Testing.Kube;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// <c>"target": "deployment/orders"</c> with a kubeconfig pointing at the API double: the library resolves the pod,
/// starts the real agent as an ephemeral container in the pod sandbox, and runs the session over a port-forward.
/// </summary>
[Collection(PodGroup.Name)]
public sealed class KubeTargetTests(PodFixture pod)
{
    [Fact]
    public async Task An_unmodified_app_runs_in_the_context_of_a_deployment_through_the_kubernetes_api()
    {
        await using var server = await KubeApiServer.StartAsync();
        server.Put("deployments", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders","namespace":"shop"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"orders"}}}}""")!);
        server.Put("pods", (JsonObject)JsonNode.Parse("""
            {"metadata":{"name":"orders-7d9f","namespace":"shop","labels":{"app":"orders"}},
             "spec":{"containers":[{"name":"app","image":"orders:1"}]},
             "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}],
                       "containerStatuses":[{"name":"app","ready":true,"restartCount":0,"state":{"running":{}}}]}}
            """)!);
        var agents = new ConcurrentBag<AgentProcess>();
        server.StartEphemeralContainer = async (_, _, container) =>
        {
            // The kubelet's part: run the container's command in the pod, here the real agent in the sandbox.
            var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();
            var port = int.Parse(args[args.IndexOf("--listen") + 1].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            var token = (string)container["env"]![0]!["value"]!;
            agents.Add(await pod.Sandbox.StartAgentAsync(port, "--token", token, "--idle-timeout", args[args.IndexOf("--idle-timeout") + 1]));
            return new JsonObject { ["running"] = new JsonObject() };
        };
        server.PortForwardTarget = (ns, name, port) => (ns, name) == ("shop", "orders-7d9f") ? new IPEndPoint(pod.Sandbox.PodIP, port) : null;
        var kubeconfig = server.WriteKubeconfig(Path.Combine(pod.Sandbox.TempPath, "kubeconfig"), "dev-token");
        var appContainerRoot = Directory.GetFileSystemEntries($"/proc/{pod.Sandbox.AppPid}/root/").Order().ToList();

        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["KUBECONFIG"] = kubeconfig,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
            ["CLUSTERCONTEXT_REQUIRED"] = "true",
            ["ORDERS_MODE"] = null,
        }, null, "env:ORDERS_MODE", $"read:{PodFixture.ConfigFile}", $"redis:{pod.Sandbox.RedisHostName}");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
        Assert.Equal(PodFixture.ConfigText, run[$"read:{PodFixture.ConfigFile}"]);
        Assert.Equal("+PONG", run[$"redis:{pod.Sandbox.RedisHostName}"]);
        var agent = Assert.Single(agents);
        var patched = server.Get("pods", "shop", "orders-7d9f")!;
        Assert.Equal("app", (string?)patched["spec"]!["ephemeralContainers"]![0]!["targetContainerName"]);
        Assert.Contains(server.Requests, r => r.StartsWith("GET /api/v1/namespaces/shop/pods/orders-7d9f/portforward?ports=", StringComparison.Ordinal));

        // The agent leaves on its own once the session is over; the app container is as it was.
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(40));
        Assert.True(agent.HasExited);
        Assert.False(pod.Agent.HasExited);
        Assert.Equal(appContainerRoot, Directory.GetFileSystemEntries($"/proc/{pod.Sandbox.AppPid}/root/").Order().ToList());
        await agent.DisposeAsync();
    }
}
