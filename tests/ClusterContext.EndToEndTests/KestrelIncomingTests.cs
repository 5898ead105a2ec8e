using System.Text.Json;
using System.Text.RegularExpressions;
using ClusterContext.Testing.Cluster;
using Xunit.Abstractions;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The pod's incoming traffic reaching an unchanged ASP.NET Core app (Kestrel on http://localhost:PORT) under the
/// hook, end to end in the sandbox cluster: steal with a header filter from curl and from Python's http.client,
/// mirror while the app is killed, the agent killed under wrk load, a WebSocket upgrade, and two developers' apps at
/// once. Every app of one test ends, and its agents exit, before the next starts, so that each test sees only its own
/// sessions on the pod's ports.
/// </summary>
[Collection(TimingGroup.Name)]
public sealed partial class KestrelIncomingTests(SandboxClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SandboxClusterFixture>
{
    /// <summary>A pod port on which the tests run a keep-alive app of the pod's own (the pod's app on 8080 closes every connection).</summary>
    private const int KeepAlivePort = 8081;

    private static readonly string OrdersUrl = $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}";

    private SandboxCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Kestrel_gets_the_requests_the_header_filter_steals_from_curl_and_from_one_python_keep_alive_connection_and_the_pod_app_the_rest()
    {
        var (mapped, keepAlive) = (KestrelApp.FreePort(), KestrelApp.FreePort());
        var agentsBefore = await AgentsGoneAsync();
        var resume = Path.Combine(fixture.Directory, $"resume-{Guid.NewGuid():N}");
        await StartPodKeepAliveAppAsync(resume);
        try
        {
            await using var app = await KestrelApp.StartAsync(fixture.Kubeconfig, $$"""
                { "network": { "incoming": { "mode": "steal", "portMapping": { "{{mapped}}": 8080, "{{keepAlive}}": {{KeepAlivePort}} },
                  "httpFilter": { "header": "^x-dev: alice$" } } } }
                """, [mapped, keepAlive]);

            // curl through the orders service: alice's requests to Kestrel, the other to the pod's app, in order.
            var curl = await Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{OrdersUrl}/one", "-H", "x-dev: alice",
                "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/two",
                "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/three?x=1", "-H", "x-dev: alice"]);
            Assert.True(curl.ExitCode == 0, curl.StandardError + app.Output);
            Assert.Equal($"kestrel GET /one x-dev=alice{SandboxCluster.AppBody}kestrel GET /three?x=1 x-dev=alice", curl.StandardOutput);

            // Python's http.client on one keep-alive connection, alternating with and without the header: every answer
            // from the right side, and the connection never closed in between (one local port throughout).
            var python = await Cluster.RunInClientAsync("/usr/bin/python3", ["-c", KeepAliveClient, Cluster.Sandbox.PodIP.ToString(), $"{KeepAlivePort}", "8"]);
            Assert.True(python.ExitCode == 0, python.StandardError + app.Output);
            var exchanges = JsonSerializer.Deserialize<JsonElement[][]>(python.StandardOutput)!;
            Assert.Equal(
                Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? $"kestrel GET /p{i} x-dev=alice" : $"original GET /p{i} x-dev="),
                exchanges.Select(e => e[0].GetString()));
            Assert.Single(exchanges.Select(e => e[1].GetInt32()).Distinct());

            await StopAndCheckNothingIsLeftAsync(app, agentsBefore);
        }
        finally
        {
            await File.WriteAllTextAsync(resume, "");
        }
    }

    /// <summary>GET /p0 .. /p(N-1) on one connection, x-dev: alice on the even ones; [body, local port] of each.</summary>
    private const string KeepAliveClient = """
        import http.client, json, sys
        connection = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
        exchanges = []
        for i in range(int(sys.argv[3])):
            connection.request("GET", f"/p{i}", headers={"x-dev": "alice"} if i % 2 == 0 else {})
            body = connection.getresponse().read().decode()
            exchanges.append([body, connection.sock.getsockname()[1] if connection.sock else -1])
        print(json.dumps(exchanges))
        """;

    /// <summary>
    /// A keep-alive HTTP app of the pod's own on <see cref="KeepAlivePort"/>, on all the pod's addresses (the test app's
    /// serve-http, answering "original METHOD PATH x-dev=…"), until <paramref name="resume"/> appears.
    /// </summary>
    private async Task StartPodKeepAliveAppAsync(string resume)
    {
        var server = Cluster.Sandbox.StartInPod("dotnet", [AppRun.AppPath, $"serve-http:0.0.0.0:{KeepAlivePort}|original|{resume}"], info =>
        {
            info.RedirectStandardOutput = true;
            info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        });
        var line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("serve-http\tlistening", line);
    }

    /// <summary>
    /// A normal session end: the app stops (SIGTERM), its agents exit, the pod's app answers alice again and no
    /// nftables table of ours is left in the pod.
    /// </summary>
    private async Task StopAndCheckNothingIsLeftAsync(KestrelApp app, int agentsBefore)
    {
        Assert.True(await app.StopAsync() == 0, app.Output);
        await WaitForAgentsToExitAsync(agentsBefore);
        var after = await Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{OrdersUrl}/after", "-H", "x-dev: alice"]);
        Assert.Equal(SandboxCluster.AppBody, after.StandardOutput);
        Assert.DoesNotContain("clusterctx", await RulesetAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Waits until every agent an earlier test started has exited (its redirect gone with it) and returns how many
    /// agents there were: a test's agents must be the only ones on the pod's ports.
    /// </summary>
    private async Task<int> AgentsGoneAsync()
    {
        var count = Cluster.Kubelet.Agents.Count;
        await WaitForAgentsToExitAsync(0);
        return count;
    }

    /// <summary>Every agent started since the first <paramref name="agentsBefore"/> has exited.</summary>
    private async Task WaitForAgentsToExitAsync(int agentsBefore)
    {
        foreach (var agent in Cluster.Kubelet.Agents.Skip(agentsBefore))
        {
            await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>The names of the nftables tables of ours in the pod's network namespace.</summary>
    private async Task<IReadOnlyList<string>> OurTablesAsync() =>
        [.. Regex.Matches(await RulesetAsync(), @"table inet (clusterctx_[0-9a-f]+)").Select(m => m.Groups[1].Value)];

    private Task<string> RulesetAsync() => PodRuleset.ReadAsync(Cluster);
}
