using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// samples/OrdersApi and samples/OrdersWorker run as a user runs them against the sandbox cluster (their own build,
/// the Development environment, the options of their appsettings.Development.json, KUBECONFIG): the API answers with
/// the pod's configuration, secret, redis and web, a request with the sample's header is stolen from the cluster's
/// client pod, an order it places is seen by the worker in the cluster's redis, and both follow a ConfigMap edit and
/// stop cleanly.
/// </summary>
[Collection(TimingGroup.Name)]
public sealed class SamplesTests(SandboxClusterFixture fixture) : IClassFixture<SandboxClusterFixture>
{
    private static readonly string OrdersUrl = $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}";

    private SandboxCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task OrdersApi_and_OrdersWorker_run_in_the_pods_context_steal_the_x_dev_request_share_redis_and_follow_a_configmap_edit()
    {
        var port = KestrelApp.FreePort();
        var api = Start("samples/OrdersApi", "OrdersApi.dll");
        api.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        // The launch profile's port is 5080, which may be taken here: the same mapping for a free one.
        api.Environment["ASPNETCORE_URLS"] = $"http://localhost:{port}";
        api.Environment[$"ClusterContext__network__incoming__portMapping__{port}"] = "8080";
        await using var apiApp = KestrelApp.Launch(api, Directory.CreateTempSubdirectory("clustercontext-e2e-ordersapi-").FullName);
        await apiApp.WaitForLineAsync(l => l.Contains($"Now listening on: http://localhost:{port}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var worker = Start("samples/OrdersWorker", "OrdersWorker.dll");
        worker.Environment["DOTNET_ENVIRONMENT"] = "Development";
        worker.Environment["Worker__Interval"] = "00:00:00.200";
        await using var workerApp = KestrelApp.Launch(worker, Directory.CreateTempSubdirectory("clustercontext-e2e-ordersworker-").FullName);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}"), Timeout = TimeSpan.FromSeconds(20) };

        var summary = JsonNode.Parse(await http.GetStringAsync("/orders/summary"))!;
        Assert.True((string?)summary["mode"] == "sandbox", summary.ToJsonString() + apiApp.Output);
        Assert.Equal("configmap", (string?)summary["source"]);
        Assert.Equal(SandboxCluster.SecretText.Length, (int?)summary["passwordLength"]);
        Assert.StartsWith("PONG in ", (string?)summary["redis"], StringComparison.Ordinal);
        Assert.Equal(SandboxCluster.WebBody, (string?)summary["web"]);
        Assert.Equal($"Connected {SandboxCluster.Namespace}/{SandboxCluster.Pod} {SandboxCluster.Container}", (string?)summary["context"]);

        // From the cluster's client pod through service orders: the order with alice's header is stolen by the local
        // API (which keeps it in the cluster's redis), the request without it is the pod's app's.
        var curl = await Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", "-X", "POST", "-H", "x-dev: alice",
            "--data", "two pizzas", $"{OrdersUrl}/orders/e2e", "--next", "-sS", "--max-time", "10", $"{OrdersUrl}/orders/summary"]);
        Assert.True(curl.ExitCode == 0, curl.StandardError + apiApp.Output);
        Assert.EndsWith($"}}{SandboxCluster.AppBody}", curl.StandardOutput, StringComparison.Ordinal);
        var placed = JsonNode.Parse(curl.StandardOutput[..^SandboxCluster.AppBody.Length])!;
        Assert.Equal("two pizzas", (string?)placed["order"]);
        Assert.Equal("two pizzas", await http.GetStringAsync("/orders/e2e"));

        // The worker reads the same redis by name: it sees the order the API placed.
        var count = (long)placed["count"]!;
        await workerApp.WaitForLineAsync(l => l.Contains($"Orders:Source=configmap; redis: worker rounds ", StringComparison.Ordinal)
            && l.EndsWith($", orders placed {count}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await PatchConfigAsync("edited");
        try
        {
            await workerApp.WaitForLineAsync(l => l.Contains("Orders:Source reloaded: edited", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
            var clock = Stopwatch.StartNew();
            while ((string?)JsonNode.Parse(await http.GetStringAsync("/orders/summary"))!["source"] != "edited")
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "OrdersApi's Orders:Source never became 'edited'" + Environment.NewLine + apiApp.Output);
                await Task.Delay(100);
            }
        }
        finally
        {
            await PatchConfigAsync("configmap");
        }

        // Ctrl+C (SIGTERM): both end cleanly, the worker after its last round.
        Assert.True(await workerApp.StopAsync() == 0, workerApp.Output);
        Assert.Contains("Stopped", workerApp.Output, StringComparison.Ordinal);
        Assert.True(await apiApp.StopAsync() == 0, apiApp.Output);
    }

    /// <summary>
    /// The sample's own build, as `dotnet run` leaves it, with the build folder as its content root (its
    /// appsettings*.json are there), KUBECONFIG, and this machine's own ORDERS_MODE, which the pod's must override.
    /// </summary>
    private ProcessStartInfo Start(string project, string dll)
    {
        var path = AppRun.BuildOutput(project, dll);
        var info = new ProcessStartInfo("dotnet", [path, "--contentRoot", Path.GetDirectoryName(path)!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        info.Environment["KUBECONFIG"] = fixture.Kubeconfig;
        info.Environment["ORDERS_MODE"] = "local";
        return info;
    }

    private async Task PatchConfigAsync(string source)
    {
        var patch = new JsonObject { ["data"] = new JsonObject { ["appsettings.json"] = "{\"Orders\":{\"Source\":\"" + source + "\"}}" } }.ToJsonString();
        var (exitCode, _, errors) = await Kubectl.RunAsync(fixture.Kubeconfig, null, null, "patch", "configmap", "orders-config", "-p", patch);
        Assert.True(exitCode == 0, errors);
    }
}
