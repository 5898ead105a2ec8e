using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using ClusterContext.Session;

namespace ClusterContext.Testing;

/// <summary>
/// Datagrams of random sizes (empty to 32 KiB) through a tunnelled UDP socket to an echo server and back. Each
/// carries its id and a SHA-256 of its id and bytes, so a datagram merged with, split from or corrupted by another
/// shows, and ids are counted on both sides, so a duplicate or a loss shows. A window keeps the kernel's buffers from
/// dropping any (UDP may; these tests must not depend on it). Everything random comes from one seed.
/// </summary>
internal sealed class UdpTunnelStress(int seed, int datagrams, int window)
{
    private readonly ConcurrentDictionary<int, int> _seenByServer = new();

    public int Seed => seed;

    /// <summary>The whole run against an echo server in the sandbox's pod, through the session <paramref name="connect"/> opens; null when all is well.</summary>
    public async Task<string?> RunInPodAsync(ClusterContext.Testing.Sandbox.PodSandbox sandbox, Func<CancellationToken, Task<AgentClient>> connect, TimeSpan timeout)
    {
        using var echo = sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var limit = new CancellationTokenSource(timeout);
        var echoing = EchoAsync(echo, limit.Token);
        string? failure;
        await using (var client = await connect(limit.Token))
        {
            var socket = await client.OpenUdpAsync(cancellationToken: limit.Token);
            await using (socket)
            {
                failure = await RunAsync(socket, (IPEndPoint)echo.LocalEndPoint!, limit.Token);
            }
        }

        await limit.CancelAsync();
        await echoing;
        return failure;
    }

    /// <summary>Echoes every datagram <paramref name="socket"/> receives, counting ids, until cancelled.</summary>
    public async Task EchoAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
                if (received.ReceivedBytes >= 4)
                {
                    _seenByServer.AddOrUpdate(BinaryPrimitives.ReadInt32BigEndian(buffer), 1, (_, n) => n + 1);
                }

                await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, received.RemoteEndPoint, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends every datagram to <paramref name="echo"/> and checks what comes back; null when all is well.</summary>
    public async Task<string?> RunAsync(RemoteUdpSocket socket, IPEndPoint echo, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var problems = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<int, int>();
        using var slots = new SemaphoreSlim(window);
        var receiving = Task.Run(async () =>
        {
            while (seen.Count < datagrams)
            {
                var (from, datagram) = await socket.ReceiveFromAsync(cancellationToken);
                if (Check(datagram) is { } problem)
                {
                    problems.Enqueue($"from {from}: {problem}");
                    continue;
                }

                var id = BinaryPrimitives.ReadInt32BigEndian(datagram);
                if (seen.AddOrUpdate(id, 1, (_, n) => n + 1) > 1)
                {
                    problems.Enqueue($"datagram {id} came back twice");
                }

                slots.Release();
            }
        }, cancellationToken);

        for (var id = 0; id < datagrams; id++)
        {
            await slots.WaitAsync(cancellationToken);
            await socket.SendToAsync(Create(id, random), echo, cancellationToken);
        }

        try
        {
            await receiving.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (TimeoutException)
        {
            problems.Enqueue($"{datagrams - seen.Count} of {datagrams} datagrams never came back (the server saw {_seenByServer.Count})");
        }

        foreach (var (id, count) in _seenByServer.Where(p => p.Value > 1).Take(10))
        {
            problems.Enqueue($"the server received datagram {id} {count} times");
        }

        if (_seenByServer.Count != datagrams)
        {
            problems.Enqueue($"the server received {_seenByServer.Count} distinct datagrams of {datagrams}");
        }

        return problems.IsEmpty ? null : $"seed {seed}:{Environment.NewLine}{string.Join(Environment.NewLine, problems.Take(20))}";
    }

    private static byte[] Create(int id, Random random)
    {
        var size = random.Next(3) switch
        {
            0 => random.Next(0, 16),
            1 => random.Next(0, 1500),
            _ => random.Next(0, 32 * 1024),
        };
        var datagram = new byte[4 + size + 32];
        BinaryPrimitives.WriteInt32BigEndian(datagram, id);
        random.NextBytes(datagram.AsSpan(4, size));
        SHA256.HashData(datagram.AsSpan(0, 4 + size), datagram.AsSpan(4 + size));
        return datagram;
    }

    private static string? Check(byte[] datagram)
    {
        if (datagram.Length < 36)
        {
            return $"a datagram of {datagram.Length} bytes, shorter than any sent";
        }

        var body = datagram.AsSpan(0, datagram.Length - 32);
        return SHA256.HashData(body).AsSpan().SequenceEqual(datagram.AsSpan(datagram.Length - 32))
            ? null
            : $"a datagram of {datagram.Length} bytes (id {BinaryPrimitives.ReadInt32BigEndian(datagram)}?) whose hash does not match its bytes";
    }
}
