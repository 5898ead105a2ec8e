using System.Diagnostics;
using System.Globalization;
using ClusterContext.Session;
using ClusterContext.Testing;

namespace ClusterContext.Benchmarks.Agent;

/// <summary>
/// The agent as the image ships it (Native AOT) next to the framework-dependent build, in one run: process start to
/// listening, resident memory idle and after 100 sessions have come and gone, threads, and CPU while idle.
/// </summary>
internal static class AgentFootprintBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var starts = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        var sessions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
        if (AgentProcess.NativeAgent is null)
        {
            Console.Error.WriteLine($"The Native AOT agent is not published beside {AgentProcess.AgentAssembly}: run ./build.sh bench agent.");
            return 1;
        }

        Console.WriteLine($"{starts} starts of each, then {sessions} sessions (connect, handshake, environment, ping, close) to one of each.");
        Console.WriteLine($"{"agent",-22} {"start->listening p50",21} {"max",7} {"idle RSS",10} {"after sessions",15} {"threads",8} {"idle CPU",9}");
        foreach (var native in new[] { true, false })
        {
            var startTimes = new List<double>();
            for (var i = 0; i < starts; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await using var once = await StartAsync(native);
                startTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            await using var agent = await StartAsync(native);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var idle = agent.ResidentBytes();
            for (var i = 0; i < sessions; i++)
            {
                await using var client = await AgentClient.ConnectAsync(agent.EndPoint, token: string.Empty, clientName: "bench");
                await client.GetEnvironmentAsync();
                await client.PingAsync();
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            var after = agent.ResidentBytes();
            var threads = Directory.GetDirectories($"/proc/{agent.Pid}/task").Length;
            var cpuBefore = ProcessCpu.Ticks(agent.Pid);
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(10));
            var cpu = (ProcessCpu.Ticks(agent.Pid) - cpuBefore) / ProcessCpu.TicksPerSecond / window.Elapsed.TotalSeconds * 100;
            startTimes.Sort();
            Console.WriteLine($"{(native ? "Native AOT (image)" : "framework-dependent"),-22} {startTimes[startTimes.Count / 2],18:0.0} ms {startTimes[^1],4:0} ms {idle / 1048576.0,6:0.0} MiB {after / 1048576.0,11:0.0} MiB {threads,8} {cpu,8:0.00}%");
        }

        Console.WriteLine();
        Console.WriteLine("goals (Native AOT): start to listening <= 50 ms, idle RSS <= 12 MiB, <= 16 MiB after 100 sessions, idle CPU <= 0.1 %");
        return 0;
    }

    private static Task<AgentProcess> StartAsync(bool native) =>
        AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)], native: native);

}
