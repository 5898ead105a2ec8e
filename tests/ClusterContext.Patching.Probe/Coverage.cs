using System.Net;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Hooks;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// Patches every choke point with a counting pass-through, calls each public API once, and prints which choke
/// points each call passed. Exit code 0 when every API reached the choke point it is expected to.
/// </summary>
internal static class Coverage
{
    private static readonly Dictionary<string, string> Replacements = new()
    {
        ["file-open"] = nameof(CoverageHooks.FileOpen),
        ["file-exists"] = nameof(CoverageHooks.FileExists),
        ["directory-exists"] = nameof(CoverageHooks.DirectoryExists),
        ["file-status"] = nameof(CoverageHooks.FileStatus),
        ["directory-open"] = nameof(CoverageHooks.DirectoryOpen),
        ["file-watch"] = nameof(CoverageHooks.FileWatch),
        ["dns"] = nameof(CoverageHooks.Dns),
        ["dns-async"] = nameof(CoverageHooks.DnsAsync),
        ["connect"] = nameof(CoverageHooks.Connect),
        ["connect-async"] = nameof(CoverageHooks.ConnectAsync),
        ["send-to"] = nameof(CoverageHooks.SendTo),
        ["send-to-span"] = nameof(CoverageHooks.SendToSpan),
        ["send-to-async"] = nameof(CoverageHooks.SendToAsync),
        ["receive-from"] = nameof(CoverageHooks.ReceiveFrom),
        ["receive-from-list"] = nameof(CoverageHooks.ReceiveFromList),
        ["receive-message-from"] = nameof(CoverageHooks.ReceiveMessageFrom),
        ["receive-message-from-list"] = nameof(CoverageHooks.ReceiveMessageFromList),
        ["bind"] = nameof(CoverageHooks.Bind),
        ["listen"] = nameof(CoverageHooks.Listen),
    };

    /// <summary>Patches the full set in this fresh process and prints how long it took, first use of the engine included.</summary>
    public static int MeasureInstall()
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (name, method) in BclChokePoints.All)
        {
            CoverageHooks.Originals[name] = MethodPatcher.Shared.Patch(method, typeof(CoverageHooks).GetMethod(Replacements[name])!, "install").Original;
        }

        var elapsed = stopwatch.Elapsed;
        Console.WriteLine($"install_ms={elapsed.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} patches={BclChokePoints.All.Count}");
        return 0;
    }

    public static async Task<int> RunAsync()
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-coverage-").FullName;
        var file = Path.Combine(directory, "appsettings.json");
        await File.WriteAllTextAsync(file, "{}");
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var endPoint = (IPEndPoint)server.LocalEndpoint;
        _ = ServeHttpAsync(server);

        foreach (var (name, method) in BclChokePoints.All)
        {
            var patch = MethodPatcher.Shared.Patch(method, typeof(CoverageHooks).GetMethod(Replacements[name])!, "coverage");
            CoverageHooks.Originals[name] = patch.Original;
        }

        var apis = new (string Api, string Expected, Func<Task> Call)[]
        {
            ("File.ReadAllText", "file-open", () => Task.FromResult(File.ReadAllText(file))),
            ("File.ReadAllBytesAsync", "file-open", () => File.ReadAllBytesAsync(file)),
            ("new FileStream", "file-open", () => new FileStream(file, FileMode.Open, FileAccess.Read).DisposeAsync().AsTask()),
            ("new StreamReader(path)", "file-open", () => { using var reader = new StreamReader(file); return Task.FromResult(reader.ReadToEnd()); }),
            ("File.OpenHandle", "file-open", () => { File.OpenHandle(file).Dispose(); return Task.CompletedTask; }),
            ("File.WriteAllText", "file-open", () => File.WriteAllTextAsync(file, "{}")),
            ("File.Exists", "file-exists", () => Task.FromResult(File.Exists(file))),
            ("Directory.Exists", "directory-exists", () => Task.FromResult(Directory.Exists(directory))),
            ("FileInfo.Exists", "file-status", () => Task.FromResult(new FileInfo(file).Exists)),
            ("FileInfo.Length", "file-status", () => Task.FromResult(new FileInfo(file).Length)),
            ("FileInfo.LastWriteTimeUtc", "file-status", () => Task.FromResult(new FileInfo(file).LastWriteTimeUtc)),
            ("File.GetLastWriteTimeUtc", "file-status", () => Task.FromResult(File.GetLastWriteTimeUtc(file))),
            ("Directory.EnumerateFiles", "directory-open", () => Task.FromResult(Directory.EnumerateFiles(directory).ToList())),
            ("Directory.GetFiles", "directory-open", () => Task.FromResult(Directory.GetFiles(directory))),
            ("DirectoryInfo.EnumerateFileSystemInfos", "directory-open", () => Task.FromResult(new DirectoryInfo(directory).EnumerateFileSystemInfos().ToList())),
            ("FileSystemWatcher", "file-watch", () => { using var w = new FileSystemWatcher(directory) { EnableRaisingEvents = true }; return Task.CompletedTask; }),
            ("Dns.GetHostAddresses", "dns", () => Task.FromResult(Dns.GetHostAddresses("localhost"))),
            ("Dns.GetHostEntry", "dns", () => Task.FromResult(Dns.GetHostEntry("localhost"))),
            ("Dns.GetHostAddressesAsync", "dns-async", () => Dns.GetHostAddressesAsync("localhost")),
            ("Dns.GetHostEntryAsync", "dns-async", () => Dns.GetHostEntryAsync("localhost")),
            ("Socket.Connect", "connect", () => { using var s = new Socket(SocketType.Stream, ProtocolType.Tcp); s.Connect(endPoint); return Task.CompletedTask; }),
            ("TcpClient.Connect", "connect", () => { using var c = new TcpClient(); c.Connect(endPoint); return Task.CompletedTask; }),
            ("Socket.ConnectAsync", "connect-async", async () => { using var s = new Socket(SocketType.Stream, ProtocolType.Tcp); await s.ConnectAsync(endPoint); }),
            ("TcpClient.ConnectAsync", "connect-async", async () => { using var c = new TcpClient(); await c.ConnectAsync(endPoint); }),
            ("HttpClient.GetStringAsync", "connect-async", async () => { using var h = new HttpClient(); await h.GetStringAsync(new Uri($"http://localhost:{endPoint.Port}/")); }),
            ("UdpClient.Send(bytes, endpoint)", "send-to", () => { using var u = new UdpClient(); u.Send([1], 1, new IPEndPoint(IPAddress.Loopback, 9)); return Task.CompletedTask; }),
            ("UdpClient.Send(span, endpoint)", "send-to-span", () => { using var u = new UdpClient(); u.Send([1], new IPEndPoint(IPAddress.Loopback, 9)); return Task.CompletedTask; }),
            ("Socket.SendTo(bytes, endpoint)", "send-to-span", () => { using var s = new Socket(SocketType.Dgram, ProtocolType.Udp); s.SendTo([1], new IPEndPoint(IPAddress.Loopback, 9)); return Task.CompletedTask; }),
            ("UdpClient.SendAsync(bytes, endpoint)", "send-to-async", async () => { using var u = new UdpClient(); await u.SendAsync(new byte[] { 1 }, 1, new IPEndPoint(IPAddress.Loopback, 9)); }),
            ("UdpClient.Receive", "receive-from", () => Received(r => { var from = new IPEndPoint(IPAddress.Any, 0); new UdpClient { Client = r }.Receive(ref from); })),
            ("UdpClient.ReceiveAsync", "receive-from", () => ReceivedAsync(async r => await new UdpClient { Client = r }.ReceiveAsync())),
            ("Socket.ReceiveFrom(bytes)", "receive-from", () => Received(r => { EndPoint from = new IPEndPoint(IPAddress.Any, 0); r.ReceiveFrom(new byte[8], ref from); })),
            ("Socket.ReceiveFrom(span, SocketAddress)", "receive-from", () => Received(r => r.ReceiveFrom(new byte[8], SocketFlags.None, new SocketAddress(AddressFamily.InterNetwork)))),
            ("Socket.ReceiveFromAsync(memory)", "receive-from", () => ReceivedAsync(async r => await r.ReceiveFromAsync(new byte[8], new IPEndPoint(IPAddress.Any, 0)))),
            ("Socket.ReceiveFromAsync(args)", "receive-from", () => ReceivedAsync(r => ReceiveWithArgs(r, new byte[8], null))),
            ("Socket.ReceiveFromAsync(args, list)", "receive-from-list", () => ReceivedAsync(r => ReceiveWithArgs(r, null, [new ArraySegment<byte>(new byte[8])]))),
            ("Socket.ReceiveMessageFrom", "receive-message-from", () => Received(r => { EndPoint from = new IPEndPoint(IPAddress.Any, 0); var flags = SocketFlags.None; r.ReceiveMessageFrom(new byte[8], 0, 8, ref flags, ref from, out _); })),
            ("Socket.ReceiveMessageFromAsync", "receive-message-from", () => ReceivedAsync(async r => await r.ReceiveMessageFromAsync(new byte[8], new IPEndPoint(IPAddress.Any, 0)))),
            ("Socket.Bind", "bind", () => { using var s = new Socket(SocketType.Dgram, ProtocolType.Udp); s.Bind(new IPEndPoint(IPAddress.Loopback, 0)); return Task.CompletedTask; }),
            ("new UdpClient(port)", "bind", () => { new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)).Dispose(); return Task.CompletedTask; }),
            ("TcpListener.Start", "listen", () => { var l = new TcpListener(IPAddress.Loopback, 0); l.Start(); l.Stop(); return Task.CompletedTask; }),
            ("Socket.Listen", "listen", () => { using var s = new Socket(SocketType.Stream, ProtocolType.Tcp); s.Bind(new IPEndPoint(IPAddress.Loopback, 0)); s.Listen(); return Task.CompletedTask; }),
        };

        var failed = false;
        foreach (var (api, expected, call) in apis)
        {
            Dictionary<string, int> before;
            lock (CoverageHooks.Seen)
            {
                before = new Dictionary<string, int>(CoverageHooks.Seen);
            }

            await call();
            List<string> passed;
            lock (CoverageHooks.Seen)
            {
                passed = [.. CoverageHooks.Seen.Where(p => p.Value > before.GetValueOrDefault(p.Key)).Select(p => p.Key).Order()];
            }

            var ok = passed.Contains(expected);
            failed |= !ok;
            Console.WriteLine($"{api,-40} -> {string.Join(", ", passed),-40} {(ok ? "ok" : "MISSING " + expected)}");
        }

        MethodPatcher.Shared.RemoveAll("coverage");
        Directory.Delete(directory, recursive: true);
        Console.WriteLine(failed ? "RESULT: FAIL" : "RESULT: PASS");
        return failed ? 1 : 0;
    }

    /// <summary>A loopback UDP socket with one datagram waiting, received by <paramref name="receive"/>.</summary>
    private static Task Received(Action<Socket> receive) => ReceivedAsync(r =>
    {
        receive(r);
        return Task.CompletedTask;
    });

    private static async Task ReceivedAsync(Func<Socket, Task> receive)
    {
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using (var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            sender.SendTo([1], receiver.LocalEndPoint!);
        }

        await receive(receiver);
    }

    private static Task ReceiveWithArgs(Socket receiver, byte[]? buffer, IList<ArraySegment<byte>>? buffers)
    {
        var done = new TaskCompletionSource();
        var args = new SocketAsyncEventArgs { RemoteEndPoint = new IPEndPoint(IPAddress.Any, 0) };
        if (buffer is not null)
        {
            args.SetBuffer(buffer);
        }
        else
        {
            args.BufferList = buffers;
        }

        args.Completed += (_, _) => done.TrySetResult();
        if (!receiver.ReceiveFromAsync(args))
        {
            done.TrySetResult();
        }

        return done.Task.ContinueWith(_ => args.Dispose(), TaskScheduler.Default);
    }

    private static async Task ServeHttpAsync(TcpListener server)
    {
        while (true)
        {
            using var client = await server.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var read = 0;
            try
            {
                while (read < buffer.Length && (read += await stream.ReadAsync(buffer.AsMemory(read))) > 0 && !Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                }

                if (read > 0)
                {
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray());
                }
            }
            catch (IOException)
            {
            }
        }
    }
}
