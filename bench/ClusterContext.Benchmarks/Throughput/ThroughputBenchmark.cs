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
        for (var round = 1; round <= rounds; round++)
        {
            var direct = await MeasureAsync(() => ConnectDirectAsync(echo.EndPoint), total);
            var tunnelled = await MeasureAsync(async () => (await client.ConnectTcpAsync(echo.EndPoint.Address.ToString(), echo.EndPoint.Port)).Stream, total);
            ratios.Add(tunnelled / direct);
            var plain = relay is null ? double.NaN : await MeasureAsync(() => ConnectDirectAsync(relay.EndPoint), total);
            relayRatios.Add(plain / direct);
            agentToRelay.Add(tunnelled / plain);
            Console.WriteLine($"{round,5} {direct,14:0} {tunnelled,14:0} {tunnelled / direct,7:0.00} {plain,18:0} {plain / direct,7:0.00} {tunnelled / plain,12:0.00}");
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
        }

        Console.WriteLine($"agent idle resident memory: {idleBeforeSessions / (1024.0 * 1024):0.0} MiB before any session, {idleAfterSessions / (1024.0 * 1024):0.0} MiB after the sessions ended");
    }

    private static async Task<Stream> ConnectDirectAsync(System.Net.IPEndPoint endPoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>MiB/s of <paramref name="total"/> bytes sent and echoed back concurrently over the stream <paramref name="connect"/> opens.</summary>
    public static async Task<double> MeasureAsync(Func<Task<Stream>> connect, long total)
    {
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
        return total / (1024.0 * 1024) / seconds;
    }
}
