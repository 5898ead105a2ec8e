using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Benchmarks.Incoming;

/// <summary>
/// What the pod's incoming traffic costs, with wrk from the sandbox cluster's client pod, each figure beside its
/// baseline in the same run, rounds alternating: (a) requests the filter does not match (the pod's app through the
/// agent) vs the pod's app direct; (b) stolen requests (through agent, port-forward and session to the local app) vs
/// the local app direct; (c) the pod's own latency with a mirroring session vs without. The pod's app is a keep-alive
/// HTTP server (the test app's serve-http) on two pod ports, one subscribed, one not; the local app is the ASP.NET Core
/// test app under the hook. Misses are reported, not failed.
/// </summary>
internal static class IncomingBenchmark
{
    private const int Subscribed = 8081;
    private const int Direct = 8082;
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
            var pod = cluster.Sandbox.PodIP;
            string PodUrl(int port) => $"http://{pod}:{port}/orders";
            var port = FreePort();
            Console.WriteLine($"wrk -t1 -c4, {rounds} rounds of {seconds} s per figure, alternating; medians of the rounds.");

            var (filtered, original, stolen, local) = (new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>(), new List<WrkResult>());
            await using (var app = await WebAppRun.StartAsync(kubeconfig, directory, $$"""
                { "network": { "incoming": { "mode": "steal", "portMapping": { "{{port}}": {{Subscribed}} }, "httpFilter": { "header": "^x-dev: alice$" } } } }
                """, port))
            {
                var localUrl = $"http://127.0.0.1:{port}/orders";
                await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1);
                await WrkResult.FromClientAsync(cluster, PodUrl(Direct), 1);
                await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1, Header);
                await WrkResult.FromHostAsync(localUrl, 1);
                for (var i = 0; i < rounds; i++)
                {
                    filtered.Add(await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds));
                    original.Add(await WrkResult.FromClientAsync(cluster, PodUrl(Direct), seconds));
                    stolen.Add(await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds, Header));
                    local.Add(await WrkResult.FromHostAsync(localUrl, seconds));
                }

                await app.StopAsync();
            }

            await WaitForAgentsAsync(cluster);
            var (mirrored, unmirrored) = (new List<WrkResult>(), new List<WrkResult>());
            await using (var app = await WebAppRun.StartAsync(kubeconfig, directory, $$"""
                { "network": { "incoming": { "mode": "mirror", "portMapping": { "{{port}}": {{Subscribed}} } } } }
                """, port))
            {
                await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), 1);
                for (var i = 0; i < rounds; i++)
                {
                    mirrored.Add(await WrkResult.FromClientAsync(cluster, PodUrl(Subscribed), seconds));
                    unmirrored.Add(await WrkResult.FromClientAsync(cluster, PodUrl(Direct), seconds));
                }

                await app.StopAsync();
            }

            await WaitForAgentsAsync(cluster);
            await File.WriteAllTextAsync(resume, "");

            Console.WriteLine();
            Console.WriteLine("(a) requests the filter does not match: the pod's app through the agent vs direct");
            Report("    p50 latency", Median(filtered, r => r.P50Microseconds), Median(original, r => r.P50Microseconds), "us", "<=", 1.3);
            Report("    throughput", Median(filtered, r => r.RequestsPerSecond), Median(original, r => r.RequestsPerSecond), "req/s", ">=", 0.7);
            Console.WriteLine("(b) stolen requests: through the agent, port-forward and session to the local app vs the local app direct");
            Report("    throughput", Median(stolen, r => r.RequestsPerSecond), Median(local, r => r.RequestsPerSecond), "req/s", ">=", 0.5);
            Report("    p50 latency", Median(stolen, r => r.P50Microseconds), Median(local, r => r.P50Microseconds), "us", null, 0);
            Console.WriteLine("(c) the pod's own latency with a mirroring session vs without");
            Report("    p50 latency", Median(mirrored, r => r.P50Microseconds), Median(unmirrored, r => r.P50Microseconds), "us", "<=", 1.2);
            Report("    throughput", Median(mirrored, r => r.RequestsPerSecond), Median(unmirrored, r => r.RequestsPerSecond), "req/s", null, 0);
            foreach (var problem in filtered.Concat(original).Concat(stolen).Concat(local).Concat(mirrored).Concat(unmirrored).Select(r => r.Problems).OfType<string>().Distinct())
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
