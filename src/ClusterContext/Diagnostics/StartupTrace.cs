using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.Diagnostics;

/// <summary>
/// With <c>CLUSTERCONTEXT_TRACE_STARTUP=1</c>, where a process's start goes: each step of the session's start as a
/// line on stderr, in milliseconds since the process started (what the bench prints as the start-up breakdown). A
/// session host started by such a process keeps its own steps instead (<see cref="CollectForClients"/>) and hands them
/// to the processes that join while it starts, which print them on their own time line: the first process of a
/// session shows the host's start, the kubeconfig, the first API call, the agent's start, the port-forward and the
/// handshake among its own steps.
/// </summary>
internal static class StartupTrace
{
    private static readonly List<(DateTime At, string Step)> Collected = [];
    private static bool s_enabled = Environment.GetEnvironmentVariable("CLUSTERCONTEXT_TRACE_STARTUP") is "1" or "true";
    private static bool s_collect;
    private static DateTime s_processStart = s_enabled ? ReadProcessStart() : default;

    public static bool Enabled => s_enabled;

    public static void Mark(string step)
    {
        if (!s_enabled)
        {
            return;
        }

        var now = DateTime.UtcNow;
        var line = string.Create(CultureInfo.InvariantCulture, $"{step} (JIT so far: {System.Runtime.JitInfo.GetCompiledMethodCount()} methods, {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms)");
        if (s_collect)
        {
            lock (Collected)
            {
                Collected.Add((now, line));
            }

            return;
        }

        Write(now, line);
    }

    /// <summary>In the session host: steps are kept for <see cref="CollectedSteps"/>, not written (its stderr is its log).</summary>
    public static void CollectForClients()
    {
        s_processStart = ReadProcessStart();
        s_collect = true;
        s_enabled = true;
        Mark("session host entered");
    }

    /// <summary>The host's steps so far, as UTC ticks and text; empty unless it collects them.</summary>
    public static IReadOnlyList<(long Ticks, string Step)> CollectedSteps()
    {
        if (!s_collect)
        {
            return [];
        }

        lock (Collected)
        {
            return [.. Collected.Select(s => (s.At.Ticks, s.Step))];
        }
    }

    /// <summary>Prints another process's steps (the session host's) on this process's time line; those from before this process started are not its own start's.</summary>
    public static void MarkFrom(string source, IReadOnlyList<(long Ticks, string Step)> steps)
    {
        if (!s_enabled || s_collect)
        {
            return;
        }

        foreach (var (ticks, step) in steps)
        {
            var at = new DateTime(ticks, DateTimeKind.Utc);
            if (at >= s_processStart)
            {
                Write(at, $"{source}: {step}");
            }
        }
    }

    private static void Write(DateTime at, string line) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"clustercontext: startup {(at - s_processStart).TotalMilliseconds,7:0.0} ms  {line}"));

    private static DateTime ReadProcessStart()
    {
        using var process = Process.GetCurrentProcess();
        return process.StartTime.ToUniversalTime();
    }
}
