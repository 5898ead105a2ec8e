using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClusterContext.Testing;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Benchmarks.Context;

/// <summary>
/// What running in a pod's context costs an app, each figure next to its baseline in the same run, against a local
/// pod sandbox with the real agent: start-up with the hook vs without, a local file open with hooks vs without, a
/// cached pod file read vs a local read, and an HTTP request tunnelled to an in-pod service vs made from the pod.
/// </summary>
internal static class ContextBenchmark
{
    private const string Token = "bench-token";
    private const string ConfigPath = "/etc/config/app.json";

    public static async Task<int> RunAsync()
    {
        var config = Encoding.UTF8.GetBytes("""{"Orders":{"Source":"configmap","Retries":3,"Endpoints":["a","b","c"]}}""");
        var options = new PodSandboxOptions();
        options.Files[ConfigPath] = config;
        await using var sandbox = await PodSandbox.StartAsync(options);
        await using var agent = await sandbox.StartAgentAsync(7777, "--token", Token);
        await using var web = await SandboxWebService.StartAsync(sandbox, 8080, "orders-web");
        var local = Path.Combine(Path.GetTempPath(), $"clustercontext-bench-{Environment.ProcessId}.json");
        await File.WriteAllBytesAsync(local, config);
        var hook = new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
            ["CLUSTERCONTEXT_AGENT_ADDRESS"] = $"{sandbox.PodIP}:7777",
            ["CLUSTERCONTEXT_AGENT_TOKEN"] = Token,
        };

        try
        {
            var (bare, hooked) = await AppRuns.AlternateAsync(7, () => AppRuns.TimeRunAsync([], "env:HOME"), () => AppRuns.TimeRunAsync(hook, "env:HOME"));
            Console.WriteLine($"start-up of a hello-world app: {bare:0} ms without, {hooked:0} ms with the hook and a running agent: +{hooked - bare:0} ms (goal: < 300 ms)");

            var open = $"time-open:20000:{local}";
            var (openBare, openHooked) = await AppRuns.AlternateAsync(3, () => AppRuns.MeasureAsync([], open), () => AppRuns.MeasureAsync(hook, open));
            Console.WriteLine($"local file open: {openBare:0} ns without hooks, {openHooked:0} ns with: ratio {openHooked / openBare:0.00} (goal: <= 1.1)");

            var (readLocal, readRemote) = await AppRuns.AlternateAsync(3, () => AppRuns.MeasureAsync([], $"time-read:5000:{local}"), () => AppRuns.MeasureAsync(hook, $"time-read:5000:{ConfigPath}"));
            Console.WriteLine($"config file read: {readLocal:0} ns local, {readRemote:0} ns from the pod (local copy, changes pushed by the agent): ratio {readRemote / readLocal:0.00} (goal: <= 3)");

            var (direct, tunnelled) = await AppRuns.AlternateAsync(3,
                () => AppRuns.MeasureAsync([], $"time-http:300:http://{sandbox.RedisIP}:{web.Port}/", sandbox.PodNetworkNamespace),
                () => AppRuns.MeasureAsync(hook, $"time-http:300:http://{web.HostName}:{web.Port}/"));
            Console.WriteLine($"HTTP request to an in-pod service: {direct:0} us from inside the pod, {tunnelled:0} us tunnelled by name: ratio {tunnelled / direct:0.00} (goal: <= 2)");
        }
        finally
        {
            File.Delete(local);
        }

        return 0;
    }
}
