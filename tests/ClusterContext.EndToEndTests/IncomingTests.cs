using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The pod's incoming traffic, end to end in the sandbox cluster: an unchanged app under the hook listens on a port of
/// its own, the session subscribes the pod port it maps to, the agent (an ephemeral container with NET_ADMIN) redirects
/// that port in the pod, and the client pod's requests reach the app or the pod's own app by the filter.
/// </summary>
public sealed class IncomingTests(SandboxClusterFixture fixture) : IClassFixture<SandboxClusterFixture>
{
    [Fact]
    public async Task A_filtered_steal_sends_the_matching_requests_of_one_keep_alive_connection_to_the_local_app_and_leaves_nothing_behind()
    {
        var cluster = fixture.Cluster;
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-incoming-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), """
                { "network": { "incoming": { "mode": "steal", "portMapping": { "18080": 8080 }, "httpFilter": { "header": "^x-dev: alice$" } } } }
                """);
            var resume = Path.Combine(directory, "resume");
            var agentsBefore = cluster.Kubelet.Agents.Count;
            var app = AppRun.StartAsync(new Dictionary<string, string?>
            {
                ["KUBECONFIG"] = fixture.Kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_REQUIRED"] = "true",
            }, directory, $"serve-http:18080|local|{resume}");
            Assert.Equal("serve-http\tlistening", await app.NextLineAsync());

            // One keep-alive connection from the client pod, through the service: alice's requests to the local app,
            // the rest to the pod's app, in order.
            var url = $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}";
            var curl = await cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{url}/one", "-H", "x-dev: alice",
                "--next", "-sS", "--max-time", "10", $"{url}/two",
                "--next", "-sS", "--max-time", "10", $"{url}/three", "-H", "x-dev: alice"]);
            Assert.True(curl.ExitCode == 0, curl.StandardError);
            Assert.Equal($"local GET /one x-dev=alice{SandboxCluster.AppBody}local GET /three x-dev=alice", curl.StandardOutput);

            // The agent container asked for NET_ADMIN, and only that.
            var pod = cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.Pod)!;
            var added = pod["spec"]!["ephemeralContainers"]!.AsArray()[^1]!["securityContext"]!["capabilities"]!;
            Assert.Equal(["NET_ADMIN"], added["add"]!.AsArray().Select(c => (string)c!));

            // The app ends: its agent leaves, with its redirect; the pod's port serves the pod's app for everyone.
            await File.WriteAllTextAsync(resume, "");
            var run = await app.CompleteAsync();
            Assert.True(run.ExitCode == 0, run.Output);
            var agent = cluster.Kubelet.Agents.Skip(agentsBefore).Single();
            Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            var after = await cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{url}/four", "-H", "x-dev: alice"]);
            Assert.Equal(SandboxCluster.AppBody, after.StandardOutput);
            Assert.DoesNotContain("clusterctx", await PodRuleset.ReadAsync(cluster), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
