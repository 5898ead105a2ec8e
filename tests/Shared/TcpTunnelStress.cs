using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Testing;

/// <summary>
/// Many tunnelled TCP connections at once to a server that answers with a random number of bytes and closes its
/// side at once. Each connection sends a random payload too, so both directions are checked (length and SHA-256).
/// In some connections the client half-closes first and the server answers after the client's end; in the others
/// both sides write and close at the same time. Everything random comes from one seed, printed with any failure.
/// </summary>
internal sealed class TcpTunnelStress
{
    private readonly int _seed;
    private readonly Plan[] _plans;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<(long Length, string Hash)>> _received = new();

    public TcpTunnelStress(int seed, int connections, int maxBytes)
    {
        _seed = seed;
        var random = new Random(seed);
        _plans = new Plan[connections];
        for (var i = 0; i < connections; i++)
        {
            // A third empty or tiny, the rest up to maxBytes: the ends of streams are where bytes get lost.
            _plans[i] = new Plan(Size(random, maxBytes), Size(random, maxBytes), random.Next(2) == 0, random.Next());
            _received[i] = new TaskCompletionSource<(long, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public int Seed => _seed;

    /// <summary>
    /// The whole run against a server in the sandbox's pod: it listens there, and each connection is opened through
    /// the session <paramref name="connect"/> opens; null when every byte arrived both ways.
    /// </summary>
    public async Task<string?> RunInPodAsync(ClusterContext.Testing.Sandbox.PodSandbox sandbox, Func<CancellationToken, Task<ClusterContext.Session.AgentClient>> connect, TimeSpan timeout)
    {
        using var listener = sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(512);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var limit = new CancellationTokenSource(timeout);
        var serving = ServeAsync(listener, limit.Token);
        await using var client = await connect(limit.Token);
        var failure = await RunAsync(async ct => (await client.ConnectTcpAsync("127.0.0.1", port, cancellationToken: ct)).Stream, parallel: 32, limit.Token);
        if (failure is null)
        {
            await serving.WaitAsync(limit.Token);
        }

        return failure;
    }

    /// <summary>Runs the server on <paramref name="listener"/> (bound and listening) until every connection is served.</summary>
    public async Task ServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        var served = new List<Task>();
        for (var i = 0; i < _plans.Length; i++)
        {
            var socket = await listener.AcceptAsync(cancellationToken);
            served.Add(Task.Run(() => ServeOneAsync(socket, cancellationToken), cancellationToken));
        }

        await Task.WhenAll(served);
    }

    /// <summary>
    /// Opens every connection through <paramref name="connect"/>, <paramref name="parallel"/> at a time, and checks every
    /// byte both ways; the message lists each failed connection and the seed.
    /// </summary>
    public async Task<string?> RunAsync(Func<CancellationToken, Task<Stream>> connect, int parallel, CancellationToken cancellationToken)
    {
        var failures = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, _plans.Length, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                if (await RunOneAsync(i, connect, ct) is { } failure)
                {
                    failures.Enqueue($"connection {i} ({_plans[i]}): {failure}");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                failures.Enqueue($"connection {i} ({_plans[i]}): {ex.GetType().Name}: {ex.Message}");
            }
        });

        return failures.IsEmpty
            ? null
            : $"{failures.Count} of {_plans.Length} connections failed (seed {_seed}, {clock.Elapsed.TotalSeconds:0.0} s):{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(20))}";
    }

    private async Task<string?> RunOneAsync(int index, Func<CancellationToken, Task<Stream>> connect, CancellationToken cancellationToken)
    {
        var plan = _plans[index];
        var request = Bytes(plan.Seed, plan.ClientBytes, index);
        var expected = Bytes(plan.Seed + 1, plan.ServerBytes, index: null);
        await using var stream = await connect(cancellationToken);
        var mux = (MuxStream)stream;
        async Task SendAsync()
        {
            await stream.WriteAsync(request, cancellationToken);
            mux.CompleteWrites();
        }

        byte[] response;
        if (plan.ClientClosesFirst)
        {
            await SendAsync();
            response = await ReadToEndAsync(stream, cancellationToken);
        }
        else
        {
            var reading = ReadToEndAsync(stream, cancellationToken);
            await SendAsync();
            response = await reading;
        }

        if (response.Length != expected.Length || !response.AsSpan().SequenceEqual(expected))
        {
            return $"received {response.Length} of {expected.Length} bytes from the server, SHA-256 {Hash(response)}, expected {Hash(expected)}";
        }

        var (length, hash) = await _received[index].Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return length == request.Length && hash == Hash(request)
            ? null
            : $"the server received {length} of {request.Length} bytes, SHA-256 {hash}, expected {Hash(request)}";
    }

    private async Task ServeOneAsync(Socket socket, CancellationToken cancellationToken)
    {
        using (socket)
        {
            var header = new byte[4];
            await ReceiveExactlyAsync(socket, header, cancellationToken);
            var index = BinaryPrimitives.ReadInt32BigEndian(header);
            var plan = _plans[index];
            var response = Bytes(plan.Seed + 1, plan.ServerBytes, index: null);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(header);
            Task<long> reading = DrainAsync(socket, hash, cancellationToken);
            if (plan.ClientClosesFirst)
            {
                await reading;
            }

            await socket.SendAsync(response, SocketFlags.None, cancellationToken);
            socket.Shutdown(SocketShutdown.Send);

            // Drained before the close: a socket closed with unread bytes is reset by the kernel, whoever relays it.
            var length = 4 + await reading;
            _received[index].TrySetResult((length, Convert.ToHexString(hash.GetHashAndReset())));
        }
    }

    private static async Task<long> DrainAsync(Socket socket, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        return total;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new IOException($"The client ended after {filled} bytes of the header.");
            }

            filled += read;
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var all = new MemoryStream();
        await stream.CopyToAsync(all, cancellationToken);
        return all.ToArray();
    }

    private static int Size(Random random, int maxBytes) => random.Next(3) switch
    {
        0 => random.Next(0, 2),
        1 => random.Next(0, 64 * 1024),
        _ => random.Next(0, maxBytes + 1),
    };

    /// <summary>Deterministic bytes; a client's start with the connection's index, so the server knows which plan it serves.</summary>
    private static byte[] Bytes(int seed, int count, int? index)
    {
        var bytes = new byte[(index is null ? 0 : 4) + count];
        new Random(seed).NextBytes(bytes);
        if (index is { } i)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes, i);
        }

        return bytes;
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    private readonly record struct Plan(int ClientBytes, int ServerBytes, bool ClientClosesFirst, int Seed);
}
