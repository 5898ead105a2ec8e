using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Hooks;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// One trial of the install race: every choke point is called all the time from the process's start, so
/// that tier-ups are queued and compiled around the install; busy threads keep every core loaded; the patches go in
/// at a moment chosen from the seed; then every call made after the install must reach its replacement.
/// </summary>
internal static class Stress
{
    private const int CallingThreads = 4;

    private static readonly (string Name, int Index, string Replacement)[] Points =
    [
        ("file-open", StressHooks.FileOpen, nameof(StressHooks.OnFileOpen)),
        ("file-exists", StressHooks.FileExists, nameof(StressHooks.OnFileExists)),
        ("directory-exists", StressHooks.DirectoryExists, nameof(StressHooks.OnDirectoryExists)),
        ("file-status", StressHooks.FileStatus, nameof(StressHooks.OnFileStatus)),
        ("directory-open", StressHooks.DirectoryOpen, nameof(StressHooks.OnDirectoryOpen)),
        ("dns", StressHooks.Dns, nameof(StressHooks.OnDns)),
        ("dns-async", StressHooks.DnsAsync, nameof(StressHooks.OnDnsAsync)),
        ("connect", StressHooks.Connect, nameof(StressHooks.OnConnect)),
        ("connect-async", StressHooks.ConnectAsync, nameof(StressHooks.OnConnectAsync)),
        ("bind", StressHooks.Bind, nameof(StressHooks.OnBind)),
        ("listen", StressHooks.Listen, nameof(StressHooks.OnListen)),
    ];

    /// <summary>Arguments: seed, the least number of counted calls per choke point, and the least time to run after the install (ms).</summary>
    public static int Run(string[] args)
    {
        var seed = int.Parse(args[0], CultureInfo.InvariantCulture);
        var minimumCalls = long.Parse(args[1], CultureInfo.InvariantCulture);
        var minimumRun = TimeSpan.FromMilliseconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0);
        var random = new Random(seed);
        var only = Environment.GetEnvironmentVariable("STRESS_ONLY")?.Split(',');
        var points = Points.Where(p => only is null || only.Contains(p.Name)).ToArray();
        var installAfter = TimeSpan.FromMilliseconds(random.Next(0, 250));

        // As the startup hook does first of all: the JIT hook goes in and no caller compiled from now on inlines a choke point.
        MethodPatcher.Shared.Reserve(BclChokePoints.All.Values);
        var directory = Directory.CreateTempSubdirectory("clustercontext-stress-").FullName;
        var file = Path.Combine(directory, "file");
        File.WriteAllText(file, "stress");
        // Connections go to a port that is bound but never listens (refused at once); the listen workload has its own socket.
        var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var peer = (IPEndPoint)closed.LocalEndPoint!;
        var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var calls = new Action[StressHooks.Count];
        calls[StressHooks.FileOpen] = () => File.OpenHandle(file).Dispose();
        calls[StressHooks.FileExists] = () => File.Exists(file);
        calls[StressHooks.DirectoryExists] = () => Directory.Exists(directory);
        calls[StressHooks.FileStatus] = () => _ = new FileInfo(file).Exists;
        calls[StressHooks.DirectoryOpen] = () => Directory.EnumerateFiles(directory).GetEnumerator().Dispose();
        calls[StressHooks.Dns] = () => System.Net.Dns.GetHostAddresses("localhost");
        calls[StressHooks.DnsAsync] = () => System.Net.Dns.GetHostAddressesAsync("localhost").GetAwaiter().GetResult();
        calls[StressHooks.Connect] = () => ConnectOnce(peer);
        calls[StressHooks.ConnectAsync] = () => ConnectAsyncOnce(peer);
        calls[StressHooks.Bind] = BindOnce;
        calls[StressHooks.Listen] = () => listening.Listen(1);

        var stop = 0;
        var installed = 0;
        var made = new long[StressHooks.Count];
        var failures = new string?[StressHooks.Count];
        var busy = Enumerable.Range(0, Environment.GetEnvironmentVariable("STRESS_NO_BUSY") is null ? Environment.ProcessorCount : 0).Select(_ => new Thread(() =>
        {
            var x = 1UL;
            while (Volatile.Read(ref stop) == 0)
            {
                x = (x * 6364136223846793005UL) + 1442695040888963407UL;
            }

            GC.KeepAlive(x);
        }) { IsBackground = true }).ToList();
        // Four calling threads, each going round its share of the choke points: every choke point is called all the
        // time, and the installing thread still gets its turn on a loaded machine.
        var callers = Enumerable.Range(0, Math.Min(CallingThreads, points.Length)).Select(thread => new Thread(() =>
        {
            var mine = points.Where((_, i) => i % CallingThreads == thread).ToArray();
            var counted = new long[mine.Length];
            var current = 0;
            try
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    for (current = 0; current < mine.Length; current++)
                    {
                        var after = Volatile.Read(ref installed) == 1;
                        StressHooks.Expected = after ? mine[current].Index + 1 : 0;
                        calls[mine[current].Index]();
                        if (after)
                        {
                            counted[current]++;
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
            {
                failures[mine[current].Index] = ex.ToString();
            }

            StressHooks.Expected = 0;
            for (var i = 0; i < mine.Length; i++)
            {
                Volatile.Write(ref made[mine[i].Index], counted[i]);
            }
        }) { IsBackground = true, Name = $"caller {thread}" }).ToList();
        busy.ForEach(t => t.Start());
        callers.ForEach(t => t.Start());

        Thread.Sleep(installAfter);
        var stopwatch = Stopwatch.StartNew();
        MethodPatcher.Shared.Patch(
            [.. points.Select(p => (BclChokePoints.All[p.Name], typeof(StressHooks).GetMethod(p.Replacement)!))],
            "stress",
            patches =>
            {
                for (var i = 0; i < points.Length; i++)
                {
                    StressHooks.Originals[points[i].Index] = patches[i].Original;
                }
            });

        var installMs = stopwatch.Elapsed.TotalMilliseconds;
        Volatile.Write(ref installed, 1);
        var seenAtInstall = StressHooks.Seen.ToArray();

        // Run until every choke point has been called enough after the install, for long enough (or for at most 20 s).
        var run = Stopwatch.StartNew();
        // Under tiering, also until the runtime has re-compiled some target while it was patched (at most 3 s): a run
        // that never reaches a tier-up would not test what it is for.
        var tiered = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0";
        var engine = (DetourEngine)MethodPatcher.Shared;
        while (run.Elapsed < TimeSpan.FromSeconds(20) && failures.All(f => f is null)
            && (run.Elapsed < minimumRun || points.Min(p => StressHooks.Seen[p.Index] - seenAtInstall[p.Index]) < minimumCalls
                || (tiered && run.Elapsed < TimeSpan.FromSeconds(3) && engine.BodyCounts.Values.All(b => b < 2))))
        {
            Thread.Sleep(10);
        }

        Volatile.Write(ref stop, 1);
        callers.ForEach(t => t.Join());
        busy.ForEach(t => t.Join());

        var failed = false;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed={seed} install_after_ms={installAfter.TotalMilliseconds:0} install_ms={installMs:0.0} run_s={run.Elapsed.TotalSeconds:0.00}"));
        foreach (var point in points)
        {
            var seen = Interlocked.Read(ref StressHooks.Seen[point.Index]);
            var ok = seen == made[point.Index] && failures[point.Index] is null;
            failed |= !ok;
            Console.WriteLine($"{point.Name,-17} made={made[point.Index]} seen={seen} {(ok ? "ok" : failures[point.Index] ?? "MISSED " + (made[point.Index] - seen))}");
        }

        Console.WriteLine(EngineReport.Describe());
        failed |= !EngineReport.Clean;
        if (failed)
        {
            Console.WriteLine(((DetourEngine)MethodPatcher.Shared).DescribeChains());
        }
        Directory.Delete(directory, recursive: true);
        listening.Dispose();
        closed.Dispose();
        Console.WriteLine(failed ? "RESULT: FAIL" : "RESULT: PASS");
        return failed ? 1 : 0;
    }

    private static void ConnectOnce(IPEndPoint peer)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(peer);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // The original, before the install: nobody listens there.
        }
    }

    private static void ConnectAsyncOnce(IPEndPoint peer)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var done = new ManualResetEventSlim();
        using var e = new SocketAsyncEventArgs { RemoteEndPoint = peer };
        e.Completed += (_, _) => done.Set();
        if (socket.ConnectAsync(e))
        {
            // Only the original goes asynchronous (before the install): the refused connection completes soon.
            done.Wait(TimeSpan.FromSeconds(5));
        }
    }

    private static void BindOnce()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }
}
