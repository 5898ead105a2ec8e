using System.Diagnostics;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Benchmarks.Session;

/// <summary>
/// What the session host buys and costs, each figure next to its baseline in the same run, against the local sandbox
/// cluster (the API double, the pod sandbox, the real agent): the time from starting a hooked app to its first line
/// (its session ready, Main run) when it starts the host and the agent, when it joins a running host, and without the
/// hook at all; and DNS, TCP and pod-file reads through the host against a process's own port-forward to the agent.
/// </summary>
internal static class SessionHostBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 7;
        await using var cluster = await SandboxCluster.StartAsync();
        var work = Directory.CreateTempSubdirectory("clustercontext-bench-session-").FullName;
        try
        {
            var kubeconfig = Path.Combine(work, "kubeconfig");
            cluster.WriteKubeconfig(kubeconfig);
            Dictionary<string, string> Hooked(params (string Key, string Value)[] more)
            {
                var environment = new Dictionary<string, string>
                {
                    ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
                    ["KUBECONFIG"] = kubeconfig,
                    ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                    ["XDG_RUNTIME_DIR"] = work,
                };
                foreach (var (key, value) in more)
                {
                    environment[key] = value;
                }

                return environment;
            }

            // The first process of a context: it starts the host, which starts the agent (the host leaves with it).
            var first = new List<double>();
            for (var i = 0; i < Math.Max(3, rounds / 2); i++)
            {
                first.Add(await AppRuns.TimeToFirstLineAsync(Hooked(("CLUSTERCONTEXT_SESSION_LINGER", "0")), "env:ORDERS_MODE"));
                await AppRuns.WaitForNoHostAsync(work);
            }

            var firstSteps = await AppRuns.StartupBreakdownAsync(Hooked(("CLUSTERCONTEXT_SESSION_LINGER", "0")), "env:ORDERS_MODE");
            await AppRuns.WaitForNoHostAsync(work);

            // Later processes join a host kept by another (an IDE's named session, a second terminal, dotnet watch).
            var resume = Path.Combine(work, "resume");
            var keeper = AppRuns.StartKeeper(Hooked(), resume);
            try
            {
                await AppRuns.TimeToFirstLineAsync(Hooked(), "env:ORDERS_MODE");
                var (bare, joining) = await AppRuns.AlternateAsync(rounds,
                    () => AppRuns.TimeToFirstLineAsync([], "env:HOME"),
                    () => AppRuns.TimeToFirstLineAsync(Hooked(), "env:ORDERS_MODE"));
                first.Sort();
                var cold = first[first.Count / 2];
                Console.WriteLine($"process start to its first line: {bare:0} ms without the hook; with it, {cold:0} ms for the first process (starts the host and the agent), {joining:0} ms joining a running host: {joining - bare:0} ms over a bare start (goal: session ready < 100 ms), {cold / joining:0.0}x faster than the first");

                Console.WriteLine("where the first process's start goes (ms since the process started; the session host's steps on the same clock):");
                foreach (var step in firstSteps)
                {
                    Console.WriteLine($"  {step}");
                }

                Console.WriteLine("where a joining process's start goes (ms since the process started; the app's Main runs right after the last step):");
                foreach (var step in await AppRuns.StartupBreakdownAsync(Hooked(), "env:ORDERS_MODE"))
                {
                    Console.WriteLine($"  {step}");
                }

                var own = Hooked(("CLUSTERCONTEXT_SESSION_SHARED", "false"));
                var (dnsOwn, dnsHost) = await AppRuns.AlternateAsync(rounds, () => AppRuns.MeasureAsync(own, "time-dns:300:web"), () => AppRuns.MeasureAsync(Hooked(), "time-dns:300:web"));
                Console.WriteLine($"DNS lookup of a service: {dnsOwn / 1000:0} us over the process's own port-forward, {dnsHost / 1000:0} us through the session host: ratio {dnsHost / dnsOwn:0.00} (goal: <= 1.1)");
                var (tcpOwn, tcpHost) = await AppRuns.AlternateAsync(rounds, () => AppRuns.MeasureAsync(own, "time-http:300:http://web:8080/"), () => AppRuns.MeasureAsync(Hooked(), "time-http:300:http://web:8080/"));
                Console.WriteLine($"HTTP request to a service (a new connection each): {tcpOwn:0} us over the process's own port-forward, {tcpHost:0} us through the session host: ratio {tcpHost / tcpOwn:0.00} (goal: <= 1.1)");
                var read = $"time-read:2000:{SandboxCluster.ConfigPath}";
                var (fileOwn, fileHost) = await AppRuns.AlternateAsync(rounds, () => AppRuns.MeasureAsync(own, read), () => AppRuns.MeasureAsync(Hooked(), read));
                Console.WriteLine($"pod file read: {fileOwn:0} ns with the process's own session, {fileHost:0} ns through the session host: ratio {fileHost / fileOwn:0.00} (goal: <= 1.1)");
            }
            finally
            {
                await File.WriteAllTextAsync(resume, "");
                await keeper.WaitForExitAsync();
                keeper.Dispose();
            }
        }
        finally
        {
            await AppRuns.WaitForNoHostAsync(work, TimeSpan.FromSeconds(45));
            Directory.Delete(work, recursive: true);
        }

        return 0;
    }
}
