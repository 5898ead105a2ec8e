using System.Diagnostics;

namespace ClusterContext.Testing.Sandbox.Tests;

/// <summary>Looks at the host directly (not through the sandbox) for what a sandbox with a given number owns.</summary>
internal static class SandboxResources
{
    public static IReadOnlyList<string> Remaining(int index)
    {
        var remaining = new List<string>();
        foreach (var name in new[] { $"cc{index}-pod", $"cc{index}-svc", $"cc{index}-cli" })
        {
            if (File.Exists($"/run/netns/{name}"))
            {
                remaining.Add($"network namespace {name}");
            }
        }

        if (Directory.Exists($"/sys/class/net/cc{index}-h"))
        {
            remaining.Add($"interface cc{index}-h");
        }

        var routes = Run("ip", "-4", "route", "show", "table", "all");
        if (routes.Contains($"10.241.{index}.0/24", StringComparison.Ordinal) || routes.Contains($"10.240.{index}.0/24", StringComparison.Ordinal))
        {
            remaining.Add($"a route for sandbox {index}");
        }

        if (File.Exists($"/run/clustercontext-sandbox/{index}.json"))
        {
            remaining.Add($"state file {index}.json");
        }

        remaining.AddRange(Directory.EnumerateDirectories(Path.GetTempPath(), $"clustercontext-sandbox-{index}-*"));
        return remaining;
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            // A zombie has exited; only its parent's bookkeeping is left.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static string Run(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
