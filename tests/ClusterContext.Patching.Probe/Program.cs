using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Patching;
using ClusterContext.Hooks;
using ClusterContext.Patching.Probe;

// Patches the file-open, file-exists, DNS and socket-connect choke points, then calls the public APIs above them
// from several threads for a while, and checks that the replacement saw every single call. Run once per runtime
// configuration (DOTNET_* variables are read at startup). Exit code 0 when every call was seen.
if (args.Length > 0 && args[0] == "install")
{
    return Coverage.MeasureInstall();
}

if (args.Length > 0 && args[0] == "coverage")
{
    return await Coverage.RunAsync();
}

if (args.Length > 0 && args[0] == "stress")
{
    return Stress.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "code-pages")
{
    return CodePages.Run();
}

if (args.Length > 0 && args[0] == "half-copied")
{
    return HalfCopiedBody.Run();
}

if (args.Length > 0 && args[0] == "jit-exceptions")
{
    return JitTimeExceptions.Run();
}

if (args.Length > 0 && args[0] == "single")
{
    return SingleMethod.Run();
}

var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var minimumCalls = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 500_000;
var patcher = MethodPatcher.Shared;
var stopwatch = Stopwatch.StartNew();
var open = patcher.Patch(BclChokePoints.FileOpen, typeof(CountingHooks).GetMethod(nameof(CountingHooks.FileOpen))!, "probe");
CountingHooks.FileOpenOriginal = open.Original;
var exists = patcher.Patch(BclChokePoints.FileExists, typeof(CountingHooks).GetMethod(nameof(CountingHooks.FileExists))!, "probe");
CountingHooks.FileExistsOriginal = exists.Original;
var dns = patcher.Patch(BclChokePoints.DnsResolve, typeof(CountingHooks).GetMethod(nameof(CountingHooks.Dns))!, "probe");
CountingHooks.DnsOriginal = dns.Original;
var connect = patcher.Patch(BclChokePoints.SocketConnect, typeof(CountingHooks).GetMethod(nameof(CountingHooks.Connect))!, "probe");
CountingHooks.ConnectOriginal = connect.Original;
Console.WriteLine($"installed 4 patches in {stopwatch.Elapsed.TotalMilliseconds:0.0} ms");
CountingHooks.ShortCircuitNetwork = true;

var file = Path.Combine(Path.GetTempPath(), $"clustercontext-probe-{Environment.ProcessId}");
File.WriteAllText(file, "probe");
var endPoint = new IPEndPoint(IPAddress.Loopback, 9);
var workloads = new (string Name, Func<long> Seen, Action Call)[]
{
    ("file-exists", () => Interlocked.Read(ref CountingHooks.FileExistsCalls), () => File.Exists(file)),
    ("file-open", () => Interlocked.Read(ref CountingHooks.FileOpenCalls), () => File.OpenHandle(file).Dispose()),
    ("dns", () => Interlocked.Read(ref CountingHooks.DnsCalls), () => Dns.GetHostAddresses("localhost")),
    ("socket-connect", () => Interlocked.Read(ref CountingHooks.ConnectCalls), ConnectOnce),
};

// All workloads at once, two threads each, until each has made enough calls for long enough.
var run = Stopwatch.StartNew();
var made = new long[workloads.Length];
var threads = workloads.SelectMany((workload, index) => Enumerable.Range(0, 2).Select(_ => new Thread(() =>
{
    while (run.Elapsed.TotalSeconds < seconds || Interlocked.Read(ref made[index]) < minimumCalls)
    {
        for (var i = 0; i < 1000; i++)
        {
            workload.Call();
        }

        Interlocked.Add(ref made[index], 1000);
    }
}))).ToList();
var before = workloads.Select(w => w.Seen()).ToArray();
threads.ForEach(t => t.Start());
threads.ForEach(t => t.Join());
var failed = false;
for (var i = 0; i < workloads.Length; i++)
{
    var observed = workloads[i].Seen() - before[i];
    var ok = observed == made[i];
    failed |= !ok;
    Console.WriteLine($"{workloads[i].Name,-15} calls={made[i]} seen={observed} over {run.Elapsed.TotalSeconds:0.0} s {(ok ? "ok" : "MISSED " + (made[i] - observed))}");
}

// The original still works through the patch.
CountingHooks.ShortCircuitNetwork = false;
var local = Dns.GetHostAddresses("localhost");
Console.WriteLine($"original paths: read back '{File.ReadAllText(file)}', localhost -> {string.Join(",", local.Select(a => a.ToString()))}");
File.Delete(file);

// Removing the patches restores the original behaviour: no further calls are seen.
patcher.RemoveAll("probe");
var afterRemoval = CountingHooks.FileExistsCalls;
for (var i = 0; i < 200_000; i++)
{
    File.Exists(file);
}

var restored = CountingHooks.FileExistsCalls == afterRemoval && !File.Exists(file);
Console.WriteLine($"after removal: {(restored ? "not seen, ok" : "STILL SEEN")}");
Console.WriteLine(failed || !restored ? "RESULT: FAIL" : "RESULT: PASS");
return failed || !restored ? 1 : 0;

static void ConnectOnce()
{
    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    socket.Connect(new IPEndPoint(IPAddress.Loopback, 9));
}
