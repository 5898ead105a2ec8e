using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using ClusterContext.Benchmarks.Kube;
using ClusterContext.Benchmarks.Throughput;
using ClusterContext.Session;
using ClusterContext.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Benchmarks.Latency;

/// <summary>
/// The latency of a tunnelled TCP connection: one byte sent and its echo awaited, again and again, over a connection
/// straight to the echo server, over one the agent opened (a session straight to the agent address), and over one
/// through a session carried by the API double's port-forward; alternating rounds of one run, p50 and p99 of each.
/// </summary>
internal static class PingPongBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var exchanges = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
        await using var echo = new TcpEchoServer();
        await using var agent = await AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--token", "bench", "--idle-timeout", "600"]);
        await using var straight = await AgentClient.ConnectAsync(agent.EndPoint, token: "bench", clientName: "bench");
        await using var cluster = await ApiDoubleAgents.StartAsync();
        var (forwarded, _, _, _) = await KubeConnector.ConnectAsync(new ClusterContextOptions { Target = "deployment/orders" }, null, NullLogger.Instance, CancellationToken.None);
        await using (forwarded)
        {
            var paths = new (string Name, Func<Task<Stream>> Connect)[]
            {
                ("direct", async () =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(echo.EndPoint);
                    return new NetworkStream(socket, ownsSocket: true);
                }),
                ("agent address", async () => (await straight.ConnectTcpAsync("127.0.0.1", echo.EndPoint.Port)).Stream),
                ("port-forward", async () => (await forwarded.ConnectTcpAsync("127.0.0.1", echo.EndPoint.Port)).Stream),
            };

            // One unmeasured round of each, so every path runs optimised code; then alternating measured rounds.
            foreach (var (_, connect) in paths)
            {
                await ExchangeAsync(connect, exchanges / 4);
            }

            var samples = paths.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < paths.Length; i++)
                {
                    samples[i].AddRange(await ExchangeAsync(paths[i].Connect, exchanges));
                }
            }

            Console.WriteLine($"1-byte ping-pong over one TCP connection, {rounds} rounds of {exchanges} exchanges, alternating:");
            var direct = Percentiles(samples[0]);
            for (var i = 0; i < paths.Length; i++)
            {
                var (p50, p99) = Percentiles(samples[i]);
                var against = i == 0 ? "" : $"  (p50 direct + {p50 - direct.P50:0} us{(i == 1 ? ", goal: <= + 60 us" : "")})";
                Console.WriteLine($"  {paths[i].Name,-14} p50 {p50,7:0.0} us   p99 {p99,7:0.0} us{against}");
            }
        }

        return 0;
    }

    /// <summary>The round-trip times, in microseconds, of <paramref name="count"/> one-byte exchanges on a new connection.</summary>
    private static async Task<List<double>> ExchangeAsync(Func<Task<Stream>> connect, int count)
    {
        await using var stream = await connect();
        var one = new byte[1];
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            one[0] = (byte)i;
            var started = Stopwatch.GetTimestamp();
            await stream.WriteAsync(one);
            await stream.FlushAsync();
            if (await stream.ReadAsync(one) != 1 || one[0] != (byte)i)
            {
                throw new InvalidOperationException("The echo did not come back.");
            }

            times.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        return times;
    }

    private static (double P50, double P99) Percentiles(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return (sorted[sorted.Count / 2], sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * 0.99))]);
    }
}
