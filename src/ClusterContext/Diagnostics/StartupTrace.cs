using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.Diagnostics;

/// <summary>
/// With <c>CLUSTERCONTEXT_TRACE_STARTUP=1</c>, where a process's start goes: each step of the session's start as a
/// line on stderr, in milliseconds since the process started (what the bench prints as the start-up breakdown).
/// </summary>
internal static class StartupTrace
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("CLUSTERCONTEXT_TRACE_STARTUP") is "1" or "true";
    private static readonly DateTime ProcessStart = Enabled ? ReadProcessStart() : default;

    public static void Mark(string step)
    {
        if (Enabled)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"clustercontext: startup {(DateTime.UtcNow - ProcessStart).TotalMilliseconds,7:0.0} ms  {step} (JIT so far: {System.Runtime.JitInfo.GetCompiledMethodCount()} methods, {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms)"));
        }
    }

    private static DateTime ReadProcessStart()
    {
        using var process = Process.GetCurrentProcess();
        return process.StartTime.ToUniversalTime();
    }
}
