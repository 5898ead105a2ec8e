using System.Diagnostics;
using System.Globalization;
using ClusterContext.Benchmarks.Kube;

namespace ClusterContext.Benchmarks.Footprint;

/// <summary>
/// What the hook costs a process at rest, next to the same app without it in the same run: resident memory and threads
/// once its start has settled, and CPU over an idle spell, with a session through the session host (target through
/// the API double) and with a session straight to an agent (agent.address).
/// </summary>
internal static class HookFootprintBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var idleSeconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        await using var cluster = await ApiDoubleAgents.StartAsync();
        await using var agent = await ClusterContext.Testing.AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--token", "bench", "--idle-timeout", "600"]);
        var runtime = Directory.CreateTempSubdirectory("clustercontext-bench-footprint-").FullName;
        try
        {
            var viaHost = new Dictionary<string, string>
            {
                ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_SESSION_LINGER"] = "0",
                ["XDG_RUNTIME_DIR"] = runtime,
            };
            var direct = new Dictionary<string, string>
            {
                ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = agent.EndPoint.ToString(),
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = "bench",
            };
            Console.WriteLine($"{"app",-36} {"RSS MiB",8} {"threads",8} {"idle CPU %",11}");
            var bare = await MeasureAsync([], idleSeconds);
            Print("without the hook", bare, null);
            var host = await MeasureAsync(viaHost, idleSeconds);
            Print("hook, target (through the session host)", host, bare);
            await AppRuns.WaitForNoHostAsync(runtime);
            var straight = await MeasureAsync(direct, idleSeconds);
            Print("hook, agent.address", straight, bare);
            Console.WriteLine($"goals: <= +10 MiB RSS and <= +3 threads over the bare app, idle CPU <= 0.1 %");
        }
        finally
        {
            await AppRuns.WaitForNoHostAsync(runtime);
            Directory.Delete(runtime, recursive: true);
        }

        return 0;
    }

    private static void Print(string what, (double RssMiB, int Threads, double CpuPercent) figures, (double RssMiB, int Threads, double CpuPercent)? baseline)
    {
        var extra = baseline is { } b ? $"   (+{figures.RssMiB - b.RssMiB:0.0} MiB, +{figures.Threads - b.Threads} threads)" : "";
        Console.WriteLine($"{what,-36} {figures.RssMiB,8:0.0} {figures.Threads,8} {figures.CpuPercent,11:0.00}{extra}");
    }

    /// <summary>The app's figures once its first command has printed and its start settled (two seconds), then its CPU over the idle spell.</summary>
    private static async Task<(double RssMiB, int Threads, double CpuPercent)> MeasureAsync(Dictionary<string, string> environment, double idleSeconds)
    {
        var info = new ProcessStartInfo("dotnet", [AppRuns.AppPath, "env:HOME", $"idle:{(idleSeconds + 10).ToString(CultureInfo.InvariantCulture)}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["CLUSTERCONTEXT_LOG"] = "warning";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            if (await process.StandardOutput.ReadLineAsync() is not { } first || !first.StartsWith("env:HOME\t", StringComparison.Ordinal) || first.Contains("\t!", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The app did not start: {await errors}");
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            var (rss, threads) = Status(process.Id);
            var before = ProcessCpu.Ticks(process.Id);
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
            var used = (ProcessCpu.Ticks(process.Id) - before) / ProcessCpu.TicksPerSecond; // clock ticks (USER_HZ, 100 a second) to seconds
            return (rss, threads, used / clock.Elapsed.TotalSeconds * 100);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    private static (double RssMiB, int Threads) Status(int pid)
    {
        double rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = double.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return (rss, threads);
    }

}
