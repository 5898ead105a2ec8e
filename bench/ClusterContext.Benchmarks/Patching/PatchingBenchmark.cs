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
        Console.WriteLine($"install of all {BclChokePoints.All.Count} choke-point hooks one by one in a fresh process (the engine's IL build, first use included): median {installs[2]:0.0} ms (runs: {string.Join(", ", installs.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))})");
        await MeasureHookStartAsync();
        return 0;
    }

    /// <summary>
    /// The install as the startup hook makes it (its ReadyToRun build, a session straight to an agent): the JIT hook and
    /// the choke points' reservation before anything else, on the start's path; then every patch in one install on a
    /// pool thread while the session starts; then the wait for it once the pod's environment is in.
    /// </summary>
    private static async Task MeasureHookStartAsync()
    {
        await using var agent = await ClusterContext.Testing.AgentProcess.StartAsync(["--listen", "127.0.0.1:0", "--target-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--token", "bench", "--idle-timeout", "600"]);
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath,
            ["CLUSTERCONTEXT_AGENT_ADDRESS"] = agent.EndPoint.ToString(),
            ["CLUSTERCONTEXT_AGENT_TOKEN"] = "bench",
        };
        var reserve = new List<double>();
        var install = new List<double>();
        var wait = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            var steps = await AppRuns.StartupBreakdownAsync(environment, "env:HOME");
            double At(string step) => double.Parse(steps.First(s => s.Contains(step, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            reserve.Add(At("choke points reserved") - At("hook entered"));
            var patches = steps.First(s => s.Contains("choke-point patches in place", StringComparison.Ordinal));
            var ms = patches[(patches.IndexOf("thread, ", StringComparison.Ordinal) + "thread, ".Length)..];
            install.Add(double.Parse(ms[..ms.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
            wait.Add(At("hooks installed") - At("pod environment and mounts received"));
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        Console.WriteLine($"the startup hook's install (7 fresh processes, medians): JIT hook and reservation on the start's path {Median(reserve):0.0} ms, " +
            $"then all patches in one install on a pool thread {Median(install):0.0} ms while the session starts, waited for {Median(wait):0.0} ms once the pod's environment was in; " +
            $"on the start's path {Median(reserve) + Median(wait):0.0} ms (goal 25 ms)");
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
