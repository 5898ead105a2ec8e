using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Cluster;
using Xunit.Abstractions;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// builder.UseClusterContext() end to end in the sandbox cluster, with the options where a developer puts them
/// (appsettings.Development.json in the content root): a web app sees the pod's environment and ConfigMap through
/// IConfiguration with the pod's precedence, reaches redis by name, gets a stolen request and follows an edit of the
/// ConfigMap; in Production it runs locally and says why; a worker (generic host, no ASP.NET Core) does the same; under
/// the startup hook as well, it joins the hook's session instead of starting a second one.
/// </summary>
[Collection(TimingGroup.Name)]
public sealed class HostedAppTests(SandboxClusterFixture fixture, ITestOutputHelper output) : IClassFixture<SandboxClusterFixture>
{
    private static readonly string OrdersUrl = $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}";

    /// <summary>Below the pod's variables: each test checks that the pod's value wins over these.</summary>
    private const string AppSettings = """
        { "ORDERS_MODE": "appsettings", "SERVICE_NAME": "appsettings",
          "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore": "Warning", "Microsoft.Hosting.Lifetime": "Information" } } }
        """;

    private SandboxCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_web_app_with_UseClusterContext_in_Development_sees_the_pods_env_and_configmap_in_IConfiguration_reaches_redis_gets_a_stolen_request_and_follows_a_configmap_edit()
    {
        var port = KestrelApp.FreePort();
        var agentsBefore = await AgentsGoneAsync();
        await using var app = await StartWebAsync(port, "Development", Settings(port), ["--SERVICE_NAME=cli"]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}"), Timeout = TimeSpan.FromSeconds(20) };

        // The pod's ORDERS_MODE over appsettings.json and over this machine's ORDERS_MODE=local; the command line over the pod's SERVICE_NAME.
        Assert.Equal("sandbox", await http.GetStringAsync("/config?key=ORDERS_MODE"));
        Assert.Equal("sandbox", await http.GetStringAsync("/env?name=ORDERS_MODE"));
        Assert.Equal("cli", await http.GetStringAsync("/config?key=SERVICE_NAME"));
        Assert.Equal("orders", await http.GetStringAsync("/env?name=SERVICE_NAME"));
        Assert.Equal("10.96.0.1", await http.GetStringAsync("/config?key=KUBERNETES_SERVICE_HOST"));
        Assert.Equal("configmap", await http.GetStringAsync("/config?key=Orders:Source"));
        Assert.Equal(SandboxCluster.SecretText, await http.GetStringAsync("/config?key=password"));
        Assert.Equal("+PONG", await http.GetStringAsync("/redis"));
        Assert.Equal(SandboxCluster.WebBody, await http.GetStringAsync("/web"));
        Assert.Equal($"Connected {SandboxCluster.Namespace}/{SandboxCluster.Pod} {SandboxCluster.Container}", await http.GetStringAsync("/context"));
        Assert.Equal("Healthy", await http.GetStringAsync("/health"));

        // Kestrel's port, subscribed by the hooks UseClusterContext installed: alice's request is stolen, the other goes to the pod's app.
        var curl = await Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{OrdersUrl}/stolen", "-H", "x-dev: alice",
            "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/kept"]);
        Assert.True(curl.ExitCode == 0, curl.StandardError + app.Output);
        Assert.Equal($"hosted GET /stolen{SandboxCluster.AppBody}", curl.StandardOutput);

        // An edit of the ConfigMap reaches IOptionsMonitor through AddJsonFile(reloadOnChange: true) on the pod's file.
        await PatchConfigAsync("edited");
        try
        {
            await WaitUntilAsync(async () => await http.GetStringAsync("/orders-source") == "edited", TimeSpan.FromSeconds(20),
                () => $"Orders:Source never became 'edited'; volume updates: {string.Join("; ", Cluster.Volumes.Updates)}{Environment.NewLine}{app.Output}");
        }
        finally
        {
            await PatchConfigAsync("configmap");
        }

        Assert.True(await app.StopAsync() == 0, app.Output);
        await WaitForAgentsToExitAsync(agentsBefore);
        Assert.Contains("The pod's ", app.Output, StringComparison.Ordinal);
        output.WriteLine(app.Output);
    }

    [Fact]
    public async Task The_same_web_app_in_Production_runs_locally_and_logs_why_and_how_to_turn_it_on()
    {
        var port = KestrelApp.FreePort();
        var agents = Cluster.Kubelet.Agents.Count;
        await using var app = await StartWebAsync(port, "Production", Settings(port), []);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}"), Timeout = TimeSpan.FromSeconds(20) };

        Assert.Equal("local", await http.GetStringAsync("/config?key=ORDERS_MODE"));
        Assert.Equal("local", await http.GetStringAsync("/env?name=ORDERS_MODE"));
        Assert.Equal("(null)", await http.GetStringAsync("/config?key=Orders:Source"));
        Assert.Equal("Off / ", await http.GetStringAsync("/context"));
        Assert.Equal("Healthy", await http.GetStringAsync("/health"));
        Assert.True(await app.StopAsync() == 0, app.Output);
        Assert.Contains("ClusterContext is off: the environment is Production, and ClusterContext runs in Development only unless enabled. To run in the pod's context, set ClusterContext:enabled to true", app.Output, StringComparison.Ordinal);
        Assert.Equal(agents, Cluster.Kubelet.Agents.Count);
    }

    [Fact]
    public async Task A_worker_with_UseClusterContext_sees_the_pod_and_follows_a_configmap_edit()
    {
        var agentsBefore = await AgentsGoneAsync();
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-worker-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), AppSettings);
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.Development.json"),
            """{ "ClusterContext": { "Target": "deployment/orders", "required": true, "network": { "incoming": { "mode": "off" } } } }""");
        var info = Start(AppRun.HostedWorkerPath, directory, []);
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        await using var worker = KestrelApp.Launch(info, directory);
        await worker.WaitForLineAsync(l => l == "ready\t", TimeSpan.FromSeconds(60));

        var lines = worker.Output.Split(Environment.NewLine);
        Assert.Contains("config\tsandbox", lines);
        Assert.Contains("env\tsandbox", lines);
        Assert.Contains("orders\tconfigmap", lines);
        Assert.Contains($"context\tConnected {SandboxCluster.Namespace}/{SandboxCluster.Pod} {SandboxCluster.Container}", lines);
        Assert.Contains("redis\t+PONG", lines);
        await PatchConfigAsync("worker-edit");
        try
        {
            await worker.WaitForLineAsync(l => l == "reloaded\tworker-edit", TimeSpan.FromSeconds(20));
        }
        finally
        {
            await PatchConfigAsync("configmap");
        }

        Assert.True(await worker.StopAsync() == 0, worker.Output);
        await WaitForAgentsToExitAsync(agentsBefore);
        // The worker runs on the base runtime alone: UseClusterContext brought no ASP.NET Core framework with it.
        Assert.DoesNotContain("Microsoft.AspNetCore", await File.ReadAllTextAsync(Path.ChangeExtension(AppRun.HostedWorkerPath, ".runtimeconfig.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_the_startup_hook_UseClusterContext_joins_the_hooks_session_one_agent_and_the_pods_env_over_appsettings()
    {
        var port = KestrelApp.FreePort();
        var agentsBefore = await AgentsGoneAsync();
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-hosted-hook-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), AppSettings);
        // The hook's options: its clustercontext.json (incoming to Kestrel's port) and CLUSTERCONTEXT_TARGET.
        await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"),
            $$"""{ "network": { "incoming": { "mode": "steal", "portMapping": { "{{port}}": 8080 }, "httpFilter": { "header": "^x-dev: bob$" } } } }""");
        var info = Start(AppRun.HostedAppPath, directory, []);
        info.Environment["DOTNET_STARTUP_HOOKS"] = AppRun.HookPath;
        info.Environment["CLUSTERCONTEXT_TARGET"] = "deployment/orders";
        info.Environment["ASPNETCORE_URLS"] = $"http://localhost:{port}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        await using var app = KestrelApp.Launch(info, directory);
        await app.WaitForLineAsync(l => l.Contains($"Now listening on: http://localhost:{port}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}"), Timeout = TimeSpan.FromSeconds(20) };

        var context = await http.GetStringAsync("/context");
        Assert.True(context == $"Connected {SandboxCluster.Namespace}/{SandboxCluster.Pod} {SandboxCluster.Container}", context + Environment.NewLine + app.Output);
        Assert.Equal("sandbox", await http.GetStringAsync("/config?key=ORDERS_MODE"));
        Assert.Equal("configmap", await http.GetStringAsync("/config?key=Orders:Source"));
        Assert.Equal("+PONG", await http.GetStringAsync("/redis"));
        var curl = await Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"{OrdersUrl}/bob", "-H", "x-dev: bob"]);
        Assert.Equal("hosted GET /bob", curl.StandardOutput);
        Assert.Single(Cluster.Kubelet.Agents.Skip(agentsBefore));
        Assert.Contains("Joined the session the startup hook runs (deployment/orders)", app.Output, StringComparison.Ordinal);
        Assert.True(await app.StopAsync() == 0, app.Output);
        await WaitForAgentsToExitAsync(agentsBefore);
    }

    [Fact]
    public async Task A_session_that_cannot_start_fails_the_host_with_its_message_and_with_required_false_the_app_runs_locally_and_degraded()
    {
        // Nothing listens on port 1: the agent address is refused at once.
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-hosted-unreachable-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), AppSettings);
            await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.Development.json"), """{ "ClusterContext": { "agent": { "address": "127.0.0.1:1" }, "timeout": 5 } }""");
            var info = Start(AppRun.HostedAppPath, directory, []);
            info.Environment["ASPNETCORE_URLS"] = $"http://localhost:{KestrelApp.FreePort()}";
            info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            using var failing = Process.Start(info)!;
            var (stdout, stderr) = (failing.StandardOutput.ReadToEndAsync(), failing.StandardError.ReadToEndAsync());
            await failing.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var text = await stdout + await stderr;
            Assert.True(failing.ExitCode != 0, text);
            Assert.Contains("ClusterContextUnavailableException: Cannot reach the ClusterContext agent at 127.0.0.1:1", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        var port = KestrelApp.FreePort();
        await using var app = await StartWebAsync(port, "Development", """{ "ClusterContext": { "agent": { "address": "127.0.0.1:1" }, "required": false, "timeout": 5 } }""", []);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}"), Timeout = TimeSpan.FromSeconds(20) };
        Assert.Equal("Local / ", await http.GetStringAsync("/context"));
        Assert.Equal("local", await http.GetStringAsync("/config?key=ORDERS_MODE"));
        Assert.Equal("Degraded", await http.GetStringAsync("/health"));
        Assert.True(await app.StopAsync() == 0, app.Output);
        Assert.Contains("Running locally (required is false).", app.Output, StringComparison.Ordinal);
    }

    /// <summary>appsettings.Development.json as the docs show it: the target, and Kestrel's port stolen for x-dev: alice.</summary>
    private static string Settings(int port) => $$"""
        {
          "ClusterContext": {
            "target": "deployment/orders",
            "network": {
              "incoming": { "mode": "steal", "portMapping": { "{{port}}": 8080 }, "httpFilter": { "header": "^x-dev: alice$" } }
            }
          }
        }
        """;

    private async Task<KestrelApp> StartWebAsync(int port, string environment, string developmentSettings, string[] arguments)
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-hosted-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), AppSettings);
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.Development.json"), developmentSettings);
        var info = Start(AppRun.HostedAppPath, directory, arguments);
        info.Environment["ASPNETCORE_URLS"] = $"http://localhost:{port}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        var app = KestrelApp.Launch(info, directory);
        try
        {
            await app.WaitForLineAsync(l => l.Contains($"Now listening on: http://localhost:{port}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The app in <paramref name="directory"/> (its content root), with this machine's own ORDERS_MODE and SERVICE_NAME, and no hook.</summary>
    private ProcessStartInfo Start(string app, string directory, string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet", [app, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        info.Environment["KUBECONFIG"] = fixture.Kubeconfig;
        info.Environment["ORDERS_MODE"] = "local";
        info.Environment["SERVICE_NAME"] = "local";
        return info;
    }

    private async Task PatchConfigAsync(string source)
    {
        var patch = new JsonObject { ["data"] = new JsonObject { ["appsettings.json"] = "{\"Orders\":{\"Source\":\"" + source + "\"}}" } }.ToJsonString();
        var (exitCode, _, errors) = await Kubectl.RunAsync(fixture.Kubeconfig, null, null, "patch", "configmap", "orders-config", "-p", patch);
        Assert.True(exitCode == 0, errors);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> failure)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(stopwatch.Elapsed < timeout, failure());
            await Task.Delay(100);
        }
    }

    private async Task<int> AgentsGoneAsync()
    {
        var count = Cluster.Kubelet.Agents.Count;
        await WaitForAgentsToExitAsync(0);
        return count;
    }

    private async Task WaitForAgentsToExitAsync(int agentsBefore)
    {
        foreach (var agent in Cluster.Kubelet.Agents.Skip(agentsBefore))
        {
            await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
