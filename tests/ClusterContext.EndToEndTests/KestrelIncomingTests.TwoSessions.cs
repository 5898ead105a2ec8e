using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

public sealed partial class KestrelIncomingTests
{
    [Fact]
    public async Task Two_developers_apps_with_different_header_filters_each_get_theirs_and_the_rest_reaches_the_pod_app()
    {
        var agentsBefore = await AgentsGoneAsync();
        // Bob works on another machine: his app does not join the session host on alice's.
        string Configuration(int port, string developer) => $$"""
            { "network": { "incoming": { "mode": "steal", "portMapping": { "{{port}}": 8080 }, "httpFilter": { "header": "^x-dev: {{developer}}$" } } },
              "session": { "shared": {{(developer == "bob" ? "false" : "true")}} } }
            """;
        var (alicePort, bobPort) = (KestrelApp.FreePort(), KestrelApp.FreePort());

        // Two sessions, each with an agent of its own in the pod: the agents share the pod's port between them.
        await using var alice = await KestrelApp.StartAsync(fixture.Kubeconfig, Configuration(alicePort, "alice"), [alicePort], printRequests: true);
        await using var bob = await KestrelApp.StartAsync(fixture.Kubeconfig, Configuration(bobPort, "bob"), [bobPort], printRequests: true);
        Assert.True(Cluster.Kubelet.Agents.Count - agentsBefore >= 2, "each session should have started an agent of its own");

        var curl = await Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{OrdersUrl}/a1", "-H", "x-dev: alice",
            "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/b1", "-H", "x-dev: bob",
            "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/n1", "-H", "x-dev: carol",
            "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/a2", "-H", "x-dev: alice"]);
        Assert.True(curl.ExitCode == 0, curl.StandardError + alice.Output + bob.Output);
        Assert.Equal($"kestrel GET /a1 x-dev=alice" + "kestrel GET /b1 x-dev=bob" + SandboxCluster.AppBody + "kestrel GET /a2 x-dev=alice", curl.StandardOutput);

        // Each request reached the app of the developer it names, and no other.
        await alice.WaitForLineAsync(l => l == "request\tGET /a2", TimeSpan.FromSeconds(10));
        await bob.WaitForLineAsync(l => l == "request\tGET /b1", TimeSpan.FromSeconds(10));
        Assert.Equal(["GET /a1", "GET /a2"], alice.Requests);
        Assert.Equal(["GET /b1"], bob.Requests);

        Assert.True(await bob.StopAsync() == 0, bob.Output);
        await StopAndCheckNothingIsLeftAsync(alice, agentsBefore);
    }
}
