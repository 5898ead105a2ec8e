using System.Globalization;

namespace ClusterContext.Benchmarks;

/// <summary>Processor time of a process as /proc/PID/stat counts it.</summary>
internal static class ProcessCpu
{
    /// <summary>Clock ticks (USER_HZ) a second.</summary>
    public const double TicksPerSecond = 100;

    /// <summary>
    /// User and system time of <paramref name="pid"/> in clock ticks (fields 14 and 15 after the command's closing
    /// parenthesis); with <paramref name="reapedChildren"/>, also that of its children it has waited for (16 and 17).
    /// </summary>
    public static long Ticks(int pid, bool reapedChildren = false)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return reapedChildren ? ticks + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture) : ticks;
    }
}
