using System.Diagnostics;
using System.Globalization;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Benchmarks.Shim;

/// <summary>
/// What the native shim costs a program that is not .NET, each figure beside its baseline in the same run (alternating
/// rounds, medians), against the local sandbox cluster with a session host running: open()+read() of a local file in
/// a loop with the shim and without; `cat` of a pod file (the host's copy) against `cat` of a local file without the
/// shim; and the start of a process (/bin/true) with the shim and without.
/// </summary>
internal static class ShimBenchmark
{
    private const string Loop = """
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        #include <unistd.h>
        int main(int argc, char **argv)
        {
            int count = atoi(argv[2]);
            char buffer[4096];
            struct timespec start, end;
            clock_gettime(CLOCK_MONOTONIC, &start);
            for (int i = 0; i < count; i++)
            {
                int fd = open(argv[1], O_RDONLY);
                if (fd < 0 || read(fd, buffer, sizeof buffer) < 0) { perror(argv[1]); return 1; }
                close(fd);
            }
            clock_gettime(CLOCK_MONOTONIC, &end);
            printf("%.1f\n", ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / count);
            return 0;
        }
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        var shim = Path.Combine(Path.GetDirectoryName(AppRuns.HookPath)!, "libclusterctx.so");
        if (!File.Exists(shim))
        {
            Console.Error.WriteLine($"{shim} is missing: build with gcc installed (./build.sh installs it).");
            return 1;
        }

        await using var cluster = await SandboxCluster.StartAsync();
        var work = Directory.CreateTempSubdirectory("clustercontext-bench-shim-").FullName;
        Process? keeper = null;
        var resume = Path.Combine(work, "resume");
        try
        {
            var kubeconfig = Path.Combine(work, "kubeconfig");
            cluster.WriteKubeconfig(kubeconfig);
            var loop = Path.Combine(work, "open-read");
            await File.WriteAllTextAsync(loop + ".c", Loop);
            await RunAsync("gcc", ["-O2", "-o", loop, loop + ".c"], []);
            var local = Path.Combine(work, "local.json");
            await File.WriteAllTextAsync(local, SandboxCluster.ConfigText);

            // A process that keeps the session host there (as an IDE's named session, or a second terminal, would).
            keeper = AppRuns.StartKeeper(new Dictionary<string, string>
            {
                ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
                ["KUBECONFIG"] = kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["XDG_RUNTIME_DIR"] = work,
            }, resume);
            var socket = await WaitForSocketAsync(Path.Combine(work, "clustercontext"));
            var with = new Dictionary<string, string> { ["LD_PRELOAD"] = shim, ["CLUSTERCONTEXT_SHIM_SOCKET"] = socket };
            Dictionary<string, string> without = [];

            const int Opens = 20000;
            var (bare, shimmed) = await AppRuns.AlternateAsync(rounds,
                async () => double.Parse(await RunAsync(loop, [local, $"{Opens}"], without), CultureInfo.InvariantCulture),
                async () => double.Parse(await RunAsync(loop, [local, $"{Opens}"], with), CultureInfo.InvariantCulture));
            Console.WriteLine($"open()+read() of a local file: {bare:0} ns without the shim, {shimmed:0} ns with it: ratio {shimmed / bare:0.00} (goal: <= 1.1)");

            var (catLocal, catPod) = await AppRuns.AlternateAsync(rounds,
                () => TimeAsync("/bin/cat", [local], without, 50),
                () => TimeAsync("/bin/cat", [SandboxCluster.ConfigPath], with, 50));
            Console.WriteLine($"cat of a file: {catLocal:0} us for a local file without the shim, {catPod:0} us for the pod's (the host's copy): ratio {catPod / catLocal:0.00} (goal: <= 2)");

            var (startBare, startShimmed) = await AppRuns.AlternateAsync(rounds,
                () => TimeAsync("/bin/true", [], without, 100),
                () => TimeAsync("/bin/true", [], with, 100));
            Console.WriteLine($"process start (/bin/true): {startBare:0} us without the shim, {startShimmed:0} us with it: {(startShimmed - startBare) / 1000:0.00} ms added (goal: < 5 ms)");
        }
        finally
        {
            await File.WriteAllTextAsync(resume, "");
            if (keeper is not null)
            {
                await keeper.WaitForExitAsync();
                keeper.Dispose();
            }

            Directory.Delete(work, recursive: true);
        }

        return 0;
    }

    /// <summary>The median wall time of <paramref name="times"/> runs of a program, in microseconds.</summary>
    private static async Task<double> TimeAsync(string program, string[] arguments, Dictionary<string, string> environment, int times)
    {
        var spans = new List<double>();
        for (var i = 0; i < times; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await RunAsync(program, arguments, environment);
            spans.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        spans.Sort();
        return spans[spans.Count / 2];
    }

    private static async Task<string> RunAsync(string program, string[] arguments, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || (await error).Contains("clustercontext:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)}: exit {process.ExitCode}: {await error}");
        }

        return (await output).Trim();
    }

    private static async Task<string> WaitForSocketAsync(string sessions)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (Directory.Exists(sessions) && Directory.EnumerateFiles(sessions, "*.sock").FirstOrDefault() is { } socket)
            {
                return socket;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No session host came up in {sessions}.");
    }
}
