using System.Globalization;
using System.Text;

namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>Reads process facts from <c>/proc</c>; every method tolerates the process vanishing mid-read.</summary>
internal static class ProcFs
{
    /// <summary>
    /// The process start time in clock ticks since boot. Together with the pid it names one process for good, which
    /// is what lets a later run kill a leftover pid without hitting an unrelated process that reused it.
    /// </summary>
    public static long? TryReadStartTime(int pid)
    {
        var fields = TryReadStatFields(pid);
        return fields is { Length: > 19 } && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? ticks
            : null;
    }

    /// <summary>Whether <paramref name="pid"/> is still the process that started at <paramref name="startTime"/> and has not exited.</summary>
    public static bool IsRunning(int pid, long startTime)
    {
        var fields = TryReadStatFields(pid);
        return fields is { Length: > 19 }
            && fields[0] != "Z"
            && fields[19] == startTime.ToString(CultureInfo.InvariantCulture);
    }

    public static IReadOnlyDictionary<string, string>? TryReadEnvironment(int pid)
    {
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes($"/proc/{pid}/environ");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Encoding.UTF8.GetString(raw).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = entry.IndexOf('=', StringComparison.Ordinal);
            if (separator > 0)
            {
                variables[entry[..separator]] = entry[(separator + 1)..];
            }
        }

        return variables;
    }

    public static string? TryReadRootLink(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/root").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The fields of <c>/proc/pid/stat</c> after the command name, so index 0 is the state (field 3 in proc(5)).</summary>
    private static string[]? TryReadStatFields(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }

        // The command name may contain spaces and parentheses; it ends at the last ')'.
        var end = stat.LastIndexOf(')');
        return end < 0 ? null : stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
