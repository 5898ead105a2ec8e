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

    /// <summary>
    /// What a disposed sandbox left behind. Other test processes start sandboxes at the same time and take the lowest
    /// free number: once the number is claimed again (a live owner, another temp folder), what is there is the new
    /// claimant's, and only the disposed sandbox's own temp folder is still looked for.
    /// </summary>
    public static IReadOnlyList<string> RemainingAfter(int index, string disposedTempPath)
    {
        var state = $"/run/clustercontext-sandbox/{index}.json";
        try
        {
            if (System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(state)) is { } claim
                && (string?)claim["tempDirectory"] is { } temp && temp != disposedTempPath
                && (int?)claim["ownerPid"] is { } owner && IsAlive(owner))
            {
                return Directory.Exists(disposedTempPath) ? [disposedTempPath] : [];
            }
        }
        catch (IOException)
        {
            // Not claimed again.
        }

        return Remaining(index);
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
