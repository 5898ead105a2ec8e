using ClusterContext.Testing;

namespace ClusterContext.EndToEndTests;

[Collection(PodGroup.Name)]
public class FailureTests(PodFixture pod)
{
    [Fact]
    public async Task An_unreachable_agent_stops_the_app_with_one_message_naming_the_address()
    {
        var run = await AppRun.RunAsync(new Dictionary<string, string?> { ["CLUSTERCONTEXT_AGENT_ADDRESS"] = "127.0.0.1:9", ["CLUSTERCONTEXT_TIMEOUT"] = "3" }, null, "env:HOME");
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("Cannot reach the ClusterContext agent at 127.0.0.1:9", run.Output, StringComparison.Ordinal);
        Assert.Contains("Check that the agent is running", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("env:HOME", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_required_false_an_unreachable_agent_is_a_warning_and_the_app_runs_locally()
    {
        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["CLUSTERCONTEXT_AGENT_ADDRESS"] = "127.0.0.1:9",
            ["CLUSTERCONTEXT_REQUIRED"] = "false",
            ["ORDERS_MODE"] = null,
        }, null, "env:ORDERS_MODE");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("<unset>", run["env:ORDERS_MODE"]);
        Assert.Contains("Running locally", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task A_kubernetes_failure_stops_the_app_with_the_fix_or_with_required_false_runs_it_locally(string required)
    {
        var kubeconfig = Path.Combine(pod.Sandbox.TempPath, $"kubeconfig-{required}");
        File.WriteAllText(kubeconfig, """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters: [ { name: dev, cluster: { server: "https://127.0.0.1:9" } } ]
            users: [ { name: me, user: { token: t } } ]
            contexts: [ { name: dev, context: { cluster: dev, user: me } }, { name: staging, context: { cluster: dev, user: me } } ]
            """);

        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["KUBECONFIG"] = kubeconfig,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
            ["CLUSTERCONTEXT_CONTEXT"] = "prod",
            ["CLUSTERCONTEXT_REQUIRED"] = required,
            ["ORDERS_MODE"] = null,
        }, null, "env:ORDERS_MODE");

        Assert.Contains("Cannot run in the context of deployment/orders: Context 'prod' is not in", run.Output, StringComparison.Ordinal);
        Assert.Contains("known contexts: dev, staging", run.Output, StringComparison.Ordinal);
        if (required == "true")
        {
            Assert.Equal(3, run.ExitCode);
            Assert.DoesNotContain("env:ORDERS_MODE", run.Output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(0, run.ExitCode);
            Assert.Equal("<unset>", run["env:ORDERS_MODE"]);
            Assert.Contains("Running locally", run.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_malformed_configuration_names_the_key()
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-config-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), """{ "agent": { "address": "x:1" }, "fs": { "mode": "sometimes" } }""");
            var run = await AppRun.RunAsync(new Dictionary<string, string?>(), directory, "env:HOME");
            Assert.Equal(3, run.ExitCode);
            Assert.Contains("fs.mode: 'sometimes' is not a mode", run.Output, StringComparison.Ordinal);

            await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), """{ "network": { "outgoing": { "tpc": true } } }""");
            run = await AppRun.RunAsync(new Dictionary<string, string?>(), directory, "env:HOME");
            Assert.Equal(3, run.ExitCode);
            Assert.Contains("network.outgoing.tpc: unknown key", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_agent_that_comes_back_at_its_address_gets_the_session_again()
    {
        var agent = await pod.Sandbox.StartAgentAsync(7791, "--token", "t-7791");
        var resume = Path.Combine(Path.GetTempPath(), $"clustercontext-e2e-resume-{Guid.NewGuid():N}");
        try
        {
            var app = AppRun.StartAsync(new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = $"{pod.Sandbox.PodIP}:7791",
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = "t-7791",
            }, null, "read:/data/items/a.txt", $"pause:{resume}", "read:/data/items/b.txt");
            Assert.EndsWith("\talpha", await app.NextLineAsync(), StringComparison.Ordinal);

            // The agent restarts (a new pod container, say) at the same address.
            await agent.DisposeAsync();
            agent = await pod.Sandbox.StartAgentAsync(7791, "--token", "t-7791");
            await File.WriteAllTextAsync(resume, "go");
            var run = await app.CompleteAsync();

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.True(run["read:/data/items/b.txt"] == "bravo", run.Output);
            Assert.Contains("Reconnected", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            await agent.DisposeAsync();
            File.Delete(resume);
        }
    }

    [Fact]
    public async Task A_lost_agent_fails_remote_reads_within_the_timeout_while_local_reads_go_on()
    {
        await using var agent = await pod.Sandbox.StartAgentAsync(7790);
        var resume = Path.Combine(Path.GetTempPath(), $"clustercontext-e2e-resume-{Guid.NewGuid():N}");
        var local = Path.Combine(Path.GetTempPath(), $"clustercontext-e2e-local-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(local, "still here");
        try
        {
            var app = AppRun.StartAsync(new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = $"{pod.Sandbox.PodIP}:7790",
                ["CLUSTERCONTEXT_TIMEOUT"] = "2",
            }, null, "read:/data/items/b.txt", $"pause:{resume}", "read:/data/items/b.txt", $"read:{local}");
            Assert.EndsWith("\tbravo", await app.NextLineAsync(), StringComparison.Ordinal);

            await agent.DisposeAsync();
            var stopped = System.Diagnostics.Stopwatch.StartNew();

            // A copy checked less than half a second ago may still be served; after that the pod must be asked.
            await Task.Delay(TimeSpan.FromSeconds(1));
            await File.WriteAllTextAsync(resume, "go");
            var run = await app.CompleteAsync();

            Assert.StartsWith("!IOException", run["read:/data/items/b.txt"], StringComparison.Ordinal);
            Assert.Contains("lost", run["read:/data/items/b.txt"], StringComparison.Ordinal);
            Assert.Equal("still here", run[$"read:{local}"]);
            Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(15), $"took {stopped.Elapsed}");
        }
        finally
        {
            File.Delete(resume);
            File.Delete(local);
        }
    }
}
