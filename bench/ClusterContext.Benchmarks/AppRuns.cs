using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.Benchmarks;

/// <summary>Runs the end-to-end test app (optionally with the hook) and times it, in alternating rounds.</summary>
internal static class AppRuns
{
    /// <summary>
    /// The app in its own build folder (tests/ClusterContext.EndToEnd.App/bin/&lt;configuration&gt;/&lt;framework&gt;), with its
    /// own older copies of shared packages, as the end-to-end tests run it; the bench runs from bench/&lt;project&gt;/bin/...
    /// </summary>
    public static string AppPath => BuildOutput("tests/ClusterContext.EndToEnd.App", "ClusterContext.EndToEnd.App.dll");

    /// <summary>The ASP.NET Core test app, in its own build folder.</summary>
    public static string WebAppPath => BuildOutput("tests/ClusterContext.EndToEnd.WebApp", "ClusterContext.EndToEnd.WebApp.dll");

    /// <summary>The hook as it ships: ClusterContext's own build folder with its dependencies (this folder lacks the packages the ASP.NET Core framework provides).</summary>
    public static string HookPath => BuildOutput("src/ClusterContext", "ClusterContext.dll");

    /// <summary>
    /// The test app under <paramref name="environment"/>, paused until <paramref name="resume"/> appears: a process that
    /// keeps its session host there (as an IDE's named session, or a second terminal, would).
    /// </summary>
    public static Process StartKeeper(Dictionary<string, string> environment, string resume)
    {
        var info = new ProcessStartInfo("dotnet", [AppPath, $"pause:{resume}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var keeper = Process.Start(info)!;
        _ = keeper.StandardOutput.ReadToEndAsync();
        _ = keeper.StandardError.ReadToEndAsync();
        return keeper;
    }

    private static string BuildOutput(string project, string file)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var root = output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, project, "bin", output.Parent!.Name, output.Name, file);
    }

    /// <summary>Runs the two measurements in turn, <paramref name="rounds"/> times each, and returns their medians.</summary>
    public static async Task<(double First, double Second)> AlternateAsync(int rounds, Func<Task<double>> first, Func<Task<double>> second)
    {
        var a = new List<double>();
        var b = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            a.Add(await first());
            b.Add(await second());
        }

        a.Sort();
        b.Sort();
        return (a[rounds / 2], b[rounds / 2]);
    }

    public static async Task<double> TimeRunAsync(Dictionary<string, string> environment, string command)
    {
        var clock = Stopwatch.StartNew();
        await RunAppAsync(environment, command, null);
        return clock.Elapsed.TotalMilliseconds;
    }

    public static async Task<double> MeasureAsync(Dictionary<string, string> environment, string command, string? networkNamespace = null)
    {
        var output = await RunAppAsync(environment, command, networkNamespace);
        var value = output.Split('\n').Select(l => l.Split('\t')).First(p => p[0] == command)[1];
        return double.Parse(value, CultureInfo.InvariantCulture);
    }

    public static async Task<string> RunAppAsync(Dictionary<string, string> environment, string command, string? networkNamespace)
    {
        string[] app = ["dotnet", AppPath, command];
        var info = networkNamespace is null
            ? new ProcessStartInfo(app[0], app[1..])
            : new ProcessStartInfo("ip", ["netns", "exec", networkNamespace, .. app]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = Path.GetTempPath();
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || output.Contains("\t!", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}): {output}{errors}");
        }

        return output;
    }

    /// <summary>
    /// Where one hooked start's time goes: the steps the hook reports with CLUSTERCONTEXT_TRACE_STARTUP=1 (milliseconds
    /// since the process started, and the JIT's work so far), one line each.
    /// </summary>
    public static async Task<IReadOnlyList<string>> StartupBreakdownAsync(Dictionary<string, string> environment, string command)
    {
        var traced = new Dictionary<string, string>(environment) { ["CLUSTERCONTEXT_TRACE_STARTUP"] = "1" };
        var info = new ProcessStartInfo("dotnet", [AppPath, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (name, value) in traced)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}): {await output}{errors}");
        }

        return [.. errors.Split('\n').Where(l => l.StartsWith("clustercontext: startup", StringComparison.Ordinal)).Select(l => l["clustercontext: startup".Length..].Trim())];
    }

    /// <summary>Milliseconds from starting the app until its first line of output (with the hook: its session is ready, Main has run).</summary>
    public static async Task<double> TimeToFirstLineAsync(Dictionary<string, string> environment, string command)
    {
        var info = new ProcessStartInfo("dotnet", [AppPath, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var first = await process.StandardOutput.ReadLineAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || first is null || first.Contains("\t!", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}): {first}{await errors}");
        }

        return elapsed;
    }

    /// <summary>Until no session host holds a lock under <paramref name="runtime"/> (its XDG_RUNTIME_DIR), or the timeout.</summary>
    public static async Task WaitForNoHostAsync(string runtime, TimeSpan? timeout = null)
    {
        var sessions = Path.Combine(runtime, "clustercontext");
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (Directory.Exists(sessions) && Directory.EnumerateFiles(sessions, "*.lock").Any() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }
}
