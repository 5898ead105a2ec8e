using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using ClusterContext.Session;
using ClusterContext.Testing;

namespace ClusterContext.Benchmarks.Throughput;

/// <summary>
/// Moves bytes through client -> agent -> TCP echo and back, and the same bytes through a direct loopback socket,
/// alternating the two in one run so that both see the same machine. Prints the ratio of the two throughputs and
/// the agent's resident memory when idle.
/// </summary>
internal static class ThroughputBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var gibibytes = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 1.0;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var total = (long)(gibibytes * 1024 * 1024 * 1024);

        await using var echo = new TcpEchoServer();
        await using var agent = await AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)], native: true);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var idleBeforeSessions = agent.ResidentBytes();

        await using var client = await AgentClient.ConnectAsync(agent.EndPoint, token: string.Empty, clientName: "bench");
        Console.WriteLine($"Moving {total / (1024.0 * 1024 * 1024):0.##} GiB each way per round, {rounds} rounds, echo at {echo.EndPoint}, agent pid {agent.Pid} ({(AgentProcess.NativeAgent is null ? "framework-dependent: Native AOT not published" : "Native AOT, as the image ships it")}).");
        // A plain byte relay in its own process (socat, when installed) shows what any relay costs on this machine.
        using var relay = PlainRelay.TryStart(echo.EndPoint);
        Console.WriteLine($"{"round",5} {"direct MiB/s",14} {"agent MiB/s",14} {"ratio",7} {"plain relay MiB/s",18} {"ratio",7} {"agent/relay",12}");

        // One unmeasured round of each so that both paths run jitted, optimised code.
        await MeasureAsync(() => ConnectDirectAsync(echo.EndPoint), total / 8);
        await MeasureAsync(async () => (await client.ConnectTcpAsync(echo.EndPoint.Address.ToString(), echo.EndPoint.Port)).Stream, total / 8);

        var ratios = new List<double>();
        var relayRatios = new List<double>();
        var agentToRelay = new List<double>();
        var cpu = new List<(double Direct, double Agent, double Relay)>();
        for (var round = 1; round <= rounds; round++)
        {
            var direct = await MeasureAsync(() => ConnectDirectAsync(echo.EndPoint), total);
            var agentTicks = ProcessCpu.Ticks(agent.Pid);
            var tunnelled = await MeasureAsync(async () => (await client.ConnectTcpAsync(echo.EndPoint.Address.ToString(), echo.EndPoint.Port)).Stream, total);
            var agentSeconds = (ProcessCpu.Ticks(agent.Pid) - agentTicks) / ProcessCpu.TicksPerSecond;
            ratios.Add(tunnelled.MiBPerSecond / direct.MiBPerSecond);
            var relayTicks = relay?.Ticks() ?? 0;
            var plain = relay is null ? (MiBPerSecond: double.NaN, CpuSeconds: double.NaN) : await MeasureAsync(() => ConnectDirectAsync(relay.EndPoint), total);
            var relaySeconds = relay is null ? double.NaN : (relay.Ticks() - relayTicks) / ProcessCpu.TicksPerSecond;
            relayRatios.Add(plain.MiBPerSecond / direct.MiBPerSecond);
            agentToRelay.Add(tunnelled.MiBPerSecond / plain.MiBPerSecond);
            cpu.Add((direct.CpuSeconds / gibibytes, (tunnelled.CpuSeconds + agentSeconds) / gibibytes, (plain.CpuSeconds + relaySeconds) / gibibytes));
            Console.WriteLine($"{round,5} {direct.MiBPerSecond,14:0} {tunnelled.MiBPerSecond,14:0} {tunnelled.MiBPerSecond / direct.MiBPerSecond,7:0.00} {plain.MiBPerSecond,18:0} {plain.MiBPerSecond / direct.MiBPerSecond,7:0.00} {tunnelled.MiBPerSecond / plain.MiBPerSecond,12:0.00}"
                + $"   cpu s/GiB: direct {direct.CpuSeconds / gibibytes:0.00}, agent {tunnelled.CpuSeconds / gibibytes:0.00} + {agentSeconds / gibibytes:0.00}, relay {plain.CpuSeconds / gibibytes:0.00} + {relaySeconds / gibibytes:0.00}");
        }

        await client.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        GC.Collect();
        var idleAfterSessions = agent.ResidentBytes();
        ratios.Sort();
        Console.WriteLine();
        Console.WriteLine($"throughput ratio (agent / direct loopback), median of {rounds}: {ratios[ratios.Count / 2]:0.00}  (goal: >= 0.5)");
        if (relay is not null)
        {
            relayRatios.Sort();
            Console.WriteLine($"for scale, a plain relay process (socat) / direct loopback, median: {relayRatios[relayRatios.Count / 2]:0.00}");
            agentToRelay.Sort();
            Console.WriteLine($"agent / plain relay, each round's pair, median: {agentToRelay[agentToRelay.Count / 2]:0.00}  (goal: >= 0.9)");
            // Processor time is steadier than throughput on a small machine: what each path costs for the same bytes.
            var agentCpu = cpu.Select(c => c.Agent).Order().ToList();
            var relayCpu = cpu.Select(c => c.Relay).Order().ToList();
            var directCpu = cpu.Select(c => c.Direct).Order().ToList();
            Console.WriteLine($"processor time per GiB each way (this process's client and echo + the relay process), median: direct {directCpu[rounds / 2]:0.00} s, agent {agentCpu[rounds / 2]:0.00} s, plain relay {relayCpu[rounds / 2]:0.00} s; plain relay / agent {relayCpu[rounds / 2] / agentCpu[rounds / 2]:0.00}");
        }

        Console.WriteLine($"agent idle resident memory: {idleBeforeSessions / (1024.0 * 1024):0.0} MiB before any session, {idleAfterSessions / (1024.0 * 1024):0.0} MiB after the sessions ended");
    }

    private static async Task<Stream> ConnectDirectAsync(System.Net.IPEndPoint endPoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// MiB/s of <paramref name="total"/> bytes sent and echoed back concurrently over the stream <paramref name="connect"/>
    /// opens, and the processor time this process spent on it (sender, receiver, echo, and a tunnel's client end).
    /// </summary>
    public static async Task<(double MiBPerSecond, double CpuSeconds)> MeasureAsync(Func<Task<Stream>> connect, long total)
    {
        var cpu = Environment.CpuUsage.TotalTime;
        await using var stream = await connect();
        var chunk = new byte[64 * 1024];
        Random.Shared.NextBytes(chunk);
        var started = Stopwatch.GetTimestamp();
        var send = Task.Run(async () =>
        {
            for (long sent = 0; sent < total; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, total - sent)));
            }
        });
        var receive = Task.Run(async () =>
        {
            var buffer = new byte[256 * 1024];
            long received = 0;
            while (received < total)
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    throw new IOException($"The echo ended after {received} of {total} bytes.");
                }

                received += read;
            }
        });
        await Task.WhenAll(send, receive);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (total / (1024.0 * 1024) / seconds, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds);
    }
}
