using System.Diagnostics;
using System.Globalization;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

public sealed partial class KestrelIncomingTests
{
    [Fact]
    public async Task Killing_the_agent_under_wrk_load_gives_the_port_back_to_the_pod_app_within_a_second_and_leaves_no_table()
    {
        var port = KestrelApp.FreePort();
        var agentsBefore = await AgentsGoneAsync();
        await using var app = await KestrelApp.StartAsync(fixture.Kubeconfig, $$"""
            { "network": { "incoming": { "mode": "steal", "portMapping": { "{{port}}": 8080 }, "httpFilter": { "header": "^x-dev: alice$" } } } }
            """, [port]);
        var agent = Cluster.Kubelet.Agents.Skip(agentsBefore).Single();
        var table = Assert.Single(await OurTablesAsync());

        // wrk sends alice's requests through the service; once Kestrel has answered a good number, the agent dies.
        var wrk = Cluster.RunInClientAsync("/usr/bin/wrk", ["-t1", "-c8", "-d4s", "-H", "x-dev: alice", $"{OrdersUrl}/load"], TimeSpan.FromSeconds(30));
        using (var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") })
        {
            var clock = Stopwatch.StartNew();
            while (long.Parse(await local.GetStringAsync("/count"), CultureInfo.InvariantCulture) < 200)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20) && !wrk.IsCompleted, $"wrk's requests did not reach Kestrel. {app.Output}");
                await Task.Delay(20);
            }
        }

        // The session starts a new agent at once, which would steal alice's requests again: it listens only after the
        // pod's app has had its chance, so what is measured is the dead agent's redirect going, not the race with its successor.
        Cluster.Kubelet.ListenDelay = TimeSpan.FromSeconds(5);
        try
        {
            using (var process = Process.GetProcessById(agent.Pid))
            {
                process.Kill(); // SIGKILL
            }

            await MeasureRecoveryAsync(table);
        }
        finally
        {
            Cluster.Kubelet.ListenDelay = TimeSpan.Zero;
        }

        var load = await wrk;
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains("requests in", load.StandardOutput, StringComparison.Ordinal);

        // The session may have started a new agent meanwhile; stopping the app ends it and leaves nothing either.
        await StopAndCheckNothingIsLeftAsync(app, agentsBefore);
    }

    private async Task MeasureRecoveryAsync(string table)
    {
        var killedAt = DateTimeOffset.UtcNow;

        // curl from the client pod, one connection after the other, until the pod's app answers alice.
        var poll = await Cluster.RunInClientAsync("/bin/sh", ["-c", """
            tries=0
            while [ "$tries" -lt 2000 ]; do
              tries=$((tries + 1))
              if [ "$(curl -s --max-time 0.5 -H 'x-dev: alice' "$0/poll")" = "$1" ]; then date +%s%N; echo "$tries"; exit 0; fi
            done
            exit 1
            """, OrdersUrl, SandboxCluster.AppBody], TimeSpan.FromSeconds(30));
        Assert.True(poll.ExitCode == 0, $"The pod's app never answered alice again. {poll.StandardError}");
        var lines = poll.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var answeredAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(lines[0], CultureInfo.InvariantCulture) / 1_000_000);
        var recovery = answeredAt - killedAt;
        output.WriteLine($"The pod's app answered alice {recovery.TotalMilliseconds:0} ms after the agent's kill ({lines[1]} curl runs).");
        Assert.True(recovery < TimeSpan.FromSeconds(1), $"The pod's app answered {recovery.TotalMilliseconds:0} ms after the kill ({lines[1]} curl runs).");

        // The kernel dropped the dead agent's table with its netlink socket.
        Assert.DoesNotContain(table, await OurTablesAsync());
    }
}
