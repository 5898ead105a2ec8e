using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary><c>clusterctx run</c>: any program in the pod's context, its exit code, its signals; a .NET program under the hook.</summary>
[Collection(SandboxGroup.Name)]
public sealed class RunTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    [Fact]
    public async Task A_shell_sees_the_pods_variable_and_its_exit_code_is_clusterctxs()
    {
        var run = await Cli.RunAsync("run", "-t", "deployment/orders", "--progress", "plain", "--", "sh", "-c", "echo \"mode=$ORDERS_MODE\"; exit 7");
        Assert.True(run.ExitCode == 7, run.ToString());
        Assert.Equal("mode=sandbox", run.Output.Trim());

        // Progress went to stderr, as plain lines (stderr is no terminal here).
        Assert.Contains("clusterctx: Resolving deployment/orders", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM", 42)]
    [InlineData("INT", 43)]
    public async Task A_signal_to_clusterctx_reaches_the_program_and_its_exit_code_comes_back(string signal, int code)
    {
        var script = $"trap 'echo got-{signal}; exit {code}' {signal}; echo ready; while true; do sleep 0.1; done";
        var running = Cli.Start(null, null, "run", "-t", "deployment/orders", "--", "sh", "-c", script);
        await running.WaitForLineAsync("ready");
        await running.SignalAsync(signal);
        var run = await running.CompleteAsync();
        Assert.True(run.ExitCode == code, run.ToString());
        Assert.Equal(["ready", $"got-{signal}"], run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_dotnet_app_runs_under_the_hook_and_joins_the_session_host_clusterctx_started()
    {
        var before = AgentContainers().Count;
        var run = await Cli.RunAsync("run", "-t", "deployment/orders", "--progress", "json", "--",
            "dotnet", Clusterctx.AppPath, "env:ORDERS_MODE", $"read:{SandboxCluster.ConfigPath}", $"read:{SandboxCluster.SecretPath}");
        Assert.True(run.ExitCode == 0, run.ToString());
        var results = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("sandbox", results["env:ORDERS_MODE"]);
        Assert.Equal(SandboxCluster.ConfigText, results[$"read:{SandboxCluster.ConfigPath}"]);
        Assert.Equal(SandboxCluster.SecretText, results[$"read:{SandboxCluster.SecretPath}"]);

        // One agent for clusterctx and the app: the app's hook joined the host clusterctx had started.
        Assert.Single(AgentContainers().Skip(before));
        Assert.Contains("via port-forward, session host", run.Error, StringComparison.Ordinal);

        // --progress json: each line of clusterctx's own on stderr is a JSON object.
        var progress = run.Error.Split('\n').Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(progress);
        var types = progress.Select(l => (string?)System.Text.Json.Nodes.JsonNode.Parse(l)!["type"]).ToList();
        Assert.Equal("ready", types[^1]);
        Assert.All(types[..^1], t => Assert.Equal("progress", t));
    }

    [Fact]
    public async Task With_a_header_filter_a_web_app_gets_the_pods_requests_that_match_and_the_pod_the_rest()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var config = Path.Combine(Runtime, "clustercontext.json");
        await File.WriteAllTextAsync(config, $$"""{ "network": { "incoming": { "portMapping": { "{{port}}": {{SandboxCluster.AppPort}} } } } }""");
        var running = Cli.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        }, null, "run", "-t", "deployment/orders", "-f", config, "--header", "^x-dev: alice$", "--", "dotnet", Clusterctx.WebAppPath);
        await running.WaitForLineAsync(l => l.Contains($"Now listening on: http://127.0.0.1:{port}", StringComparison.Ordinal), "Kestrel listening");

        // From another pod, through the orders service: alice's request to the app here, the other to the pod's own app.
        var url = $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}";
        var curl = await Fixture.Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{url}/one", "-H", "x-dev: alice",
            "--next", "-sS", "--max-time", "10", $"{url}/two"]);
        Assert.True(curl.ExitCode == 0, curl.StandardError);
        Assert.Equal($"kestrel GET /one x-dev=alice{SandboxCluster.AppBody}", curl.StandardOutput);

        // SIGTERM to clusterctx: the app shuts down as it does on its own, and its exit code comes back.
        await running.SignalAsync("TERM");
        var run = await running.CompleteAsync();
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public async Task An_apphost_of_a_dotnet_app_is_recognised_by_its_runtime_configuration()
    {
        var apphost = Path.ChangeExtension(Clusterctx.AppPath, null);
        Assert.True(File.Exists(apphost), $"{apphost} is missing");
        var dotnetRoot = new DirectoryInfo(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/')).Parent!.Parent!.Parent!.FullName;
        var run = await Cli.RunAsync(new Dictionary<string, string?> { ["DOTNET_ROOT"] = dotnetRoot }, null, "run", "-t", "deployment/orders", "--", apphost, $"read:{SandboxCluster.ConfigPath}");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"read:{SandboxCluster.ConfigPath}\t{SandboxCluster.ConfigText}", run.Output.Trim());
    }

    [Fact]
    public async Task Env_file_gets_the_variables_the_program_gets_for_a_dotnet_program_too()
    {
        var file = Path.Combine(Runtime, "pod.env");
        var run = await Cli.RunAsync("run", "-t", "deployment/orders", "--env-file", file, "--", "dotnet", Clusterctx.AppPath, "env:ORDERS_MODE");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("env:ORDERS_MODE\tsandbox", run.Output.Trim());
        Assert.Contains("ORDERS_MODE=sandbox", File.ReadAllLines(file));
        Assert.DoesNotContain(File.ReadAllLines(file), l => l.StartsWith("PATH=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_program_exits_127_and_a_missing_target_2()
    {
        var missing = await Cli.RunAsync("run", "-t", "deployment/orders", "--", "no-such-program-here");
        Assert.True(missing.ExitCode == 127, missing.ToString());
        Assert.Contains("no-such-program-here: command not found", missing.Error, StringComparison.Ordinal);

        var noTarget = await Cli.RunAsync("run", "--", "true");
        Assert.True(noTarget.ExitCode == 2, noTarget.ToString());
        Assert.Contains("-t deployment/NAME", noTarget.Error, StringComparison.Ordinal);

        var unknown = await Cli.RunAsync("run", "-t", "deployment/nope", "--", "true");
        Assert.True(unknown.ExitCode == 3, unknown.ToString());
        Assert.Contains("deployment/nope was not found in namespace 'shop'", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clusterctx_itself_is_never_hooked()
    {
        var before = AgentContainers().Count;
        var run = await Cli.RunAsync(new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = Clusterctx.HookPath,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
        }, null, "session", "list");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("clustercontext", run.Error, StringComparison.Ordinal);
        Assert.Equal(before, AgentContainers().Count);
    }
}
