using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ClusterContext.Benchmarks.Throughput;
using ClusterContext.Kube;
using ClusterContext.Session;
using ClusterContext.Testing;
using ClusterContext.Testing.Kube;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Benchmarks.Kube;

/// <summary>
/// The Kubernetes path against the API double, side by side with a direct agent connection in one run: the time from
/// "target: deployment/orders" to a ready session (kubeconfig, target resolution, ephemeral container start,
/// port-forward, handshake), and TCP throughput through a session carried by the port-forward relative to a session
/// connected straight to an agent of the same build (the session token of the other stays inside its port-forward).
/// </summary>
internal static class PortForwardBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var mebibytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 256;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var total = mebibytes * 1024L * 1024;
        await using var echo = new TcpEchoServer();
        await using var cluster = await ApiDoubleAgents.StartAsync();
        var options = new ClusterContextOptions { Target = "deployment/orders" };

        // The baseline: a raw stream through the same double's port-forward, to the echo server as the pod's port, with
        // no session on it (what the API server and the WebSocket client can carry, whatever the session adds).
        var agentTarget = cluster.Server.PortForwardTarget;
        cluster.Server.PortForwardTarget = (ns, pod, port) => port == echo.EndPoint.Port ? echo.EndPoint : agentTarget(ns, pod, port);
        using var rawApi = new KubeApiClient(KubeConfigLoader.Load(null, null));
        async Task<Stream> OpenRawAsync() => await PortForwardStream.OpenAsync(rawApi, "shop", "orders-1", echo.EndPoint.Port, CancellationToken.None);

        // The direct path: an agent of the same build and target, whose token this process knows.
        await using var directAgent = await AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--token", "bench", "--idle-timeout", "600"]);
        Console.WriteLine($"{"round",5} {"session ready ms",17} {"direct MiB/s",13} {"port-fwd MiB/s",15} {"ratio",6} {"raw pf MiB/s",13} {"session/raw",12}");
        var ratios = new List<double>();
        var overRaw = new List<double>();
        var ready = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            var started = Stopwatch.GetTimestamp();
            var (viaApi, _, _, _) = await KubeConnector.ConnectAsync(options, null, NullLogger.Instance, CancellationToken.None);
            var readyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await using (viaApi)
            {
                await using var direct = await AgentClient.ConnectAsync(directAgent.EndPoint, token: "bench", clientName: "bench");
                var straight = (await ThroughputBenchmark.MeasureAsync(async () => (await direct.ConnectTcpAsync("127.0.0.1", echo.EndPoint.Port)).Stream, total)).MiBPerSecond;
                var forwarded = (await ThroughputBenchmark.MeasureAsync(async () => (await viaApi.ConnectTcpAsync("127.0.0.1", echo.EndPoint.Port)).Stream, total)).MiBPerSecond;
                var raw = (await ThroughputBenchmark.MeasureAsync(OpenRawAsync, total)).MiBPerSecond;
                if (round == 0)
                {
                    Console.WriteLine($"{"warm",5} {readyMs,17:0} {straight,13:0} {forwarded,15:0} {forwarded / straight,6:0.00} {raw,13:0} {forwarded / raw,12:0.00}");
                    continue;
                }

                ready.Add(readyMs);
                ratios.Add(forwarded / straight);
                overRaw.Add(forwarded / raw);
                Console.WriteLine($"{round,5} {readyMs,17:0} {straight,13:0} {forwarded,15:0} {forwarded / straight,6:0.00} {raw,13:0} {forwarded / raw,12:0.00}");
            }
        }

        ratios.Sort();
        overRaw.Sort();
        ready.Sort();

        // The whole path as an app meets it: a new process whose startup hook starts the session host, which reads
        // the kubeconfig, resolves the target, starts the agent, port-forwards and handshakes before Main prints its
        // first line. Each is the first process of its context: the host leaves with it (linger 0) before the next.
        var runtime = Directory.CreateTempSubdirectory("clustercontext-bench-kube-").FullName;
        var hook = new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
            ["CLUSTERCONTEXT_LOG"] = "warning",
            ["CLUSTERCONTEXT_SESSION_LINGER"] = "0",
            ["XDG_RUNTIME_DIR"] = runtime,
        };
        async Task<double> FirstProcessAsync()
        {
            var ms = await AppRuns.TimeToFirstLineAsync(hook, "env:HOME");
            await AppRuns.WaitForNoHostAsync(runtime);
            return ms;
        }

        var (bare, hooked) = await AppRuns.AlternateAsync(Math.Max(rounds, 3), () => AppRuns.TimeToFirstLineAsync([], "env:HOME"), FirstProcessAsync);
        Console.WriteLine();
        Console.WriteLine($"process start to Main with the session ready (the first process of its context: startup hook, session host, target deployment/orders through the API double), median: {hooked:0} ms; " +
            $"the same app without the hook: {bare:0} ms (+{hooked - bare:0} ms, goal +350 ms)");
        Console.WriteLine("where that start goes (ms since the process started; the session host's steps on the same clock):");
        foreach (var step in await AppRuns.StartupBreakdownAsync(hook, "env:HOME"))
        {
            Console.WriteLine($"  {step}");
        }

        await AppRuns.WaitForNoHostAsync(runtime);
        Directory.Delete(runtime, recursive: true);
        Console.WriteLine($"session ready through the API (resolve + ephemeral container + port-forward + handshake), median: {ready[ready.Count / 2]:0} ms");
        Console.WriteLine($"throughput ratio (session over port-forward / session straight to the agent), median of {rounds}: {ratios[ratios.Count / 2]:0.00}");
        Console.WriteLine($"throughput ratio (session over port-forward / raw port-forward to the same echo, no session), median of {rounds}: {overRaw[overRaw.Count / 2]:0.00} (goal 0.8)");
    }
}
