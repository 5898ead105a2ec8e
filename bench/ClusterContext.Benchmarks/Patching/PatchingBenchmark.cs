using System.Diagnostics;
using System.Globalization;
using ClusterContext.Hooks;
using ClusterContext.Patching;

namespace ClusterContext.Benchmarks.Patching;

/// <summary>
/// The cost of a hooked pass-through call next to the unpatched method, measured in alternating rounds of the same
/// run, for the file-exists choke point (File.Exists on a missing file) and for a tiny CPU-only method; and the time
/// to install the full set of choke-point hooks in a fresh process, first use of the engine included.
/// </summary>
internal static class PatchingBenchmark
{
    private const int Rounds = 7;

    public static async Task<int> RunAsync()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"clustercontext-bench-missing-{Environment.ProcessId}");
        Report("File.Exists (file-exists choke point)", MeasureRatio(
            BclChokePoints.FileExists, nameof(PassThrough.FileExists), p => PassThrough.FileExistsOriginal = p, 200_000, () => File.Exists(missing)));
        Report("a 4-step arithmetic method (no I/O)", MeasureRatio(
            typeof(PassThrough).GetMethod(nameof(PassThrough.ComputeTarget))!, nameof(PassThrough.Compute), p => PassThrough.ComputeOriginal = p, 20_000_000, () => PassThrough.ComputeTarget(7)));

        var installs = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            installs.Add(await MeasureInstallAsync());
        }

        installs.Sort();
        Console.WriteLine($"install of all {BclChokePoints.All.Count} choke-point hooks in a fresh process: median {installs[2]:0.0} ms (runs: {string.Join(", ", installs.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}; goal < 50 ms)");
        return 0;
    }

    private static (double Unpatched, double Patched) MeasureRatio(System.Reflection.MethodBase target, string replacement, Action<nint> setOriginal, int calls, Action call)
    {
        // Warm both paths so that each is measured at its final tier.
        Time(call, calls);
        var unpatched = new List<double>();
        var patched = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            unpatched.Add(Time(call, calls));
            var patch = MethodPatcher.Shared.Patch(target, typeof(PassThrough).GetMethod(replacement)!, "bench");
            setOriginal(patch.Original);
            Time(call, calls / 4);
            patched.Add(Time(call, calls));
            MethodPatcher.Shared.Remove(patch);
        }

        unpatched.Sort();
        patched.Sort();
        return (unpatched[Rounds / 2], patched[Rounds / 2]);
    }

    private static double Time(Action call, int calls)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            call();
        }

        return stopwatch.Elapsed.TotalNanoseconds / calls;
    }

    private static void Report(string what, (double Unpatched, double Patched) result) =>
        Console.WriteLine($"{what}: unpatched {result.Unpatched:0.0} ns/call, hooked pass-through {result.Patched:0.0} ns/call, ratio {result.Patched / result.Unpatched:0.00} (goal for file-exists: <= 1.3)");

    private static async Task<double> MeasureInstallAsync()
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ClusterContext.Patching.Probe.dll"), "install"]) { RedirectStandardOutput = true };
        using var probe = Process.Start(info)!;
        var output = await probe.StandardOutput.ReadToEndAsync();
        await probe.WaitForExitAsync();
        var line = output.Split('\n').First(l => l.StartsWith("install_ms=", StringComparison.Ordinal));
        return double.Parse(line["install_ms=".Length..line.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
    }
}
