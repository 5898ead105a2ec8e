using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Benchmarks.Incoming;

/// <summary>
/// What the pod's incoming traffic costs, with wrk from the sandbox cluster's client pod, each figure beside its
/// baseline in the same run, rounds alternating: (a) requests the filter does not match (the pod's app through the
/// agent) vs the pod's app direct, with a plain relay (socat) beside them for scale; (b) stolen requests (through the
/// agent and a session straight to it, and again over the port-forward) vs the local app direct; (c) the pod's own
/// latency with a mirroring session vs without. The pod's app is a keep-alive HTTP server (the test app's serve-http)
/// on two pod ports, one subscribed, one not; the local app is the ASP.NET Core test app under the hook. Misses are
/// reported, not failed.
/// </summary>
internal static class IncomingBenchmark
{
    private const int Subscribed = 8081;
    private const int Direct = 8082;
    private const int Relay = 8083;
    private const int AgentPort = 7777;
    private const string Token = "bench-incoming";
    private const string Header = "x-dev: alice";

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        var directory = Directory.CreateTempSubdirectory("clustercontext-bench-incoming-").FullName;
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        await using var cluster = await SandboxCluster.StartAsync();
        cluster.WriteKubeconfig(kubeconfig);
        try
        {
            var resume = Path.Combine(directory, "resume");
            await StartPodAppAsync(cluster, Subscribed, resume);
            await StartPodAppAsync(cluster, Direct, resume);
            StartPlainRelay(cluster);
            var pod = cluster.Sandbox.PodIP;
            string PodUrl(int port) => $"http://{pod}:{port}/orders";
            var port = FreePort();
            var localUrl = $"http://127.0.0.1:{port}/orders";
            Console.WriteLine($"wrk -t1 -c4, {rounds} rounds of {seconds} s per figure, alternating; medians of the rounds.");

            var (filtered, original, relayed, stolen, local) = (new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>());
            await using (var app = await WebAppRun.StartAsync(kubeconfig, directory, Steal(port), port))
            {
                await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1);
                await WrkResult.FromClientAsync(cluster, PodUrl(Direct), 1);
                await WrkResult.FromClientAsync(cluster, PodUrl(Relay), 1);
                await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1, Header);
                await WrkResult.FromHostAsync(localUrl, 1);
                for (var i = 0; i < rounds; i++)
                {
                    filtered.Add(await Phase("filtered", () => WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds)));
                    original.Add(await Phase("original", () => WrkResult.FromClientAsync(cluster, PodUrl(Direct), seconds)));
                    relayed.Add(await Phase("relayed", () => WrkResult.FromClientAsync(cluster, PodUrl(Relay), seconds)));
                    stolen.Add(await Phase("stolen-port-forward", () => WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds, Header)));
                    local.Add(await Phase("local", () => WrkResult.FromHostAsync(localUrl, seconds)));
                }

                await app.StopAsync();
            }

            await WaitForAgentsAsync(cluster);

            // The session straight to an agent listening on the pod IP (agent.address): no port-forward in between.
            var (stolenDirect, localDirect, mirrored, unmirrored) = (new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>());
            await using (var agent = await cluster.Sandbox.StartAgentAsync(AgentPort, "--token", Token))
            {
                var direct = new Dictionary<string, string> { ["CLUSTERCONTEXT_AGENT_ADDRESS"] = $"{pod}:{AgentPort}", ["CLUSTERCONTEXT_AGENT_TOKEN"] = Token };
                await using (var app = await WebAppRun.StartAsync(kubeconfig, directory, Steal(port), port, direct))
                {
                    await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1, Header);
                    for (var i = 0; i < rounds; i++)
                    {
                        stolenDirect.Add(await Phase("stolen", () => WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds, Header)));
                        localDirect.Add(await Phase("local", () => WrkResult.FromHostAsync(localUrl, seconds)));
                    }

                    await app.StopAsync();
                }

                await using (var app = await WebAppRun.StartAsync(kubeconfig, directory, $$"""
                    { "network": { "incoming": { "mode": "mirror", "portMapping": { "{{port}}": {{Subscribed}} } } } }
                    """, port, direct))
                {
                    await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1);
                    for (var i = 0; i < rounds; i++)
                    {
                        mirrored.Add(await Phase("mirrored", () => WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds)));
                        unmirrored.Add(await Phase("unmirrored", () => WrkResult.FromClientAsync(cluster, PodUrl(Direct), seconds)));
                    }

                    await app.StopAsync();
                }
            }

            await File.WriteAllTextAsync(resume, "");

            Console.WriteLine();
            Console.WriteLine("(a) requests the filter does not match: the pod's app through the agent vs direct");
            Report("    p50 latency", Median(filtered, r => r.P50Microseconds), Median(original, r => r.P50Microseconds), "us", "<=", 1.3);
            Report("    throughput", Median(filtered, r => r.RequestsPerSecond), Median(original, r => r.RequestsPerSecond), "req/s", ">=", 0.7);
            Console.WriteLine("    for scale, a plain relay (socat, no parsing) in the pod vs direct, and the agent vs that relay:");
            Report("    relay p50 latency", Median(relayed, r => r.P50Microseconds), Median(original, r => r.P50Microseconds), "us", null, 0);
            Report("    relay throughput", Median(relayed, r => r.RequestsPerSecond), Median(original, r => r.RequestsPerSecond), "req/s", null, 0);
            Report("    agent vs relay, p50 latency", Median(filtered, r => r.P50Microseconds), Median(relayed, r => r.P50Microseconds), "us", null, 0);
            Report("    agent vs relay, throughput", Median(filtered, r => r.RequestsPerSecond), Median(relayed, r => r.RequestsPerSecond), "req/s", null, 0);
            Console.WriteLine("(b) stolen requests: through the agent and the session (straight to the agent) to the local app vs the local app direct");
            Report("    throughput", Median(stolenDirect, r => r.RequestsPerSecond), Median(localDirect, r => r.RequestsPerSecond), "req/s", ">=", 0.5);
            Report("    p50 latency", Median(stolenDirect, r => r.P50Microseconds), Median(localDirect, r => r.P50Microseconds), "us", null, 0);
            Console.WriteLine("    the same with the session over the sandbox API server's port-forward (which runs on these cores too):");
            Report("    throughput", Median(stolen, r => r.RequestsPerSecond), Median(local, r => r.RequestsPerSecond), "req/s", null, 0);
            Report("    p50 latency", Median(stolen, r => r.P50Microseconds), Median(local, r => r.P50Microseconds), "us", null, 0);
            Console.WriteLine("(c) the pod's own latency with a mirroring session (straight to the agent) vs without");
            Report("    p50 latency", Median(mirrored, r => r.P50Microseconds), Median(unmirrored, r => r.P50Microseconds), "us", "<=", 1.2);
            Report("    throughput", Median(mirrored, r => r.RequestsPerSecond), Median(unmirrored, r => r.RequestsPerSecond), "req/s", null, 0);
            Console.WriteLine($"All of it shares this machine's {Environment.ProcessorCount} cores: the pod's client, app and agent, and the laptop's session, local app and API server.");
            foreach (var problem in filtered.Concat(original).Concat(relayed).Concat(stolen).Concat(local).Concat(stolenDirect).Concat(localDirect).Concat(mirrored).Concat(unmirrored)
                .Select(r => r.Problems).OfType<string>().Distinct())
            {
                Console.WriteLine($"wrk reported: {problem}");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Steal(int port) => $$"""
        { "network": { "incoming": { "mode": "steal", "portMapping": { "{{port}}": {{Subscribed}} }, "httpFilter": { "header": "^x-dev: alice$" } } } }
        """;

    /// <summary>socat in the pod from <see cref="Relay"/> to the pod's app on <see cref="Direct"/>: what any relay costs here.</summary>
    private static void StartPlainRelay(SandboxCluster cluster) =>
        cluster.Sandbox.StartInPod("socat", [$"TCP-LISTEN:{Relay},fork,reuseaddr,nodelay", $"TCP:127.0.0.1:{Direct},nodelay"]);

    /// <summary>
    /// One figure's run; with CLUSTERCONTEXT_BENCH_PHASES set, its name and CLOCK_MONOTONIC span in seconds are printed,
    /// to cut a system-wide profile (perf record -k CLOCK_MONOTONIC, then perf report --time START,END) to one figure.
    /// </summary>
    private static async Task<WrkResult> Phase(string name, Func<Task<WrkResult>> run)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await run();
        if (Environment.GetEnvironmentVariable("CLUSTERCONTEXT_BENCH_PHASES") is { Length: > 0 })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"phase {name} {start / (double)Stopwatch.Frequency:0.000},{Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency:0.000}"));
        }

        return result;
    }

    private static void Report(string name, double measured, double baseline, string unit, string? comparison, double target)
    {
        var ratio = measured / baseline;
        var verdict = comparison switch
        {
            "<=" => $"target <= {target:0.0#}: {(ratio <= target ? "holds" : "MISSED")}",
            ">=" => $"target >= {target:0.0#}: {(ratio >= target ? "holds" : "MISSED")}",
            _ => "(no target)",
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {measured:0} vs {baseline:0} {unit}, ratio {ratio:0.00}  {verdict}"));
    }

    private static double Median(List<WrkResult> results, Func<WrkResult, double> figure)
    {
        var sorted = results.Select(figure).Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>A keep-alive HTTP app of the pod's own on <paramref name="port"/> (all the pod's addresses), until <paramref name="resume"/> appears.</summary>
    private static async Task StartPodAppAsync(SandboxCluster cluster, int port, string resume)
    {
        var server = cluster.Sandbox.StartInPod("dotnet", [AppRuns.AppPath, $"serve-http:0.0.0.0:{port}|original|{resume}"], info =>
        {
            info.RedirectStandardOutput = true;
            info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        });
        var line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line != "serve-http\tlistening")
        {
            throw new InvalidOperationException($"The pod's app on {port} did not start: {line}");
        }
    }

    /// <summary>Each figure is measured with one session on the port: the next session starts once the last agent has left.</summary>
    private static async Task WaitForAgentsAsync(SandboxCluster cluster)
    {
        foreach (var agent in cluster.Kubelet.Agents)
        {
            await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
