using System.Text.RegularExpressions;
using ClusterContext.Testing.Sandbox.FileSystem;
using ClusterContext.Testing.Sandbox.Network;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox.Registry;

/// <summary>
/// Removes everything a sandbox state names. The same code serves a normal dispose, a start that failed halfway and
/// the sweep of a crashed run, so it expects any resource to be missing already and reports instead of throwing.
/// </summary>
internal static partial class SandboxCleanup
{
    public const string TempDirectoryPrefix = "clustercontext-sandbox-";

    private static readonly TimeSpan s_killTimeout = TimeSpan.FromSeconds(5);

    public static async Task RemoveAsync(SandboxTools tools, SandboxState state, ICollection<string> problems)
    {
        var kills = await Task.WhenAll(state.Processes.Select(p => ProcessTermination.KillAsync(p.Name, p.Pid, p.StartTime, s_killTimeout)))
            .ConfigureAwait(false);
        foreach (var problem in kills.OfType<string>())
        {
            problems.Add(problem);
        }

        // Deleting the host end removes the pair at once; a namespace's own devices go with the namespace later.
        if (state.HostInterface.Length > 0 && Directory.Exists($"/sys/class/net/{state.HostInterface}"))
        {
            await RunAsync(tools, ["link", "del", state.HostInterface], problems, tolerated: "Cannot find device").ConfigureAwait(false);
        }

        // The client pod's namespace derives from the index alone: states written before it existed are swept too.
        var client = state.Index > 0 ? new SandboxAddresses(state.Index).ClientNamespace : "";
        foreach (var name in new[] { state.PodNamespace, state.ServicesNamespace, client }.Where(n => n.Length > 0))
        {
            if (File.Exists(SandboxAddresses.NamespacePath(name)))
            {
                await RunAsync(tools, ["netns", "del", name], problems, tolerated: "No such file").ConfigureAwait(false);
            }
        }

        if (state.UnreachableRoute.Length > 0)
        {
            await RunAsync(tools, ["route", "del", "unreachable", state.UnreachableRoute], problems, tolerated: "No such process").ConfigureAwait(false);
        }

        if (state.TempDirectory is { } directory && Directory.Exists(directory))
        {
            DeleteTempDirectory(directory, problems);
        }
    }

    private static async Task RunAsync(SandboxTools tools, string[] arguments, ICollection<string> problems, string tolerated)
    {
        var result = await CommandRunner.RunAsync(tools.Ip, arguments, CancellationToken.None).ConfigureAwait(false);
        if (result.ExitCode != 0 && !result.StandardError.Contains(tolerated, StringComparison.Ordinal))
        {
            problems.Add($"'{result.CommandLine}' exited with code {result.ExitCode}: {result.StandardError.Trim()}");
        }
    }

    private static void DeleteTempDirectory(string directory, ICollection<string> problems)
    {
        // The state file is trusted only this far: a recursive delete goes nowhere but a sandbox's own temp directory.
        if (!Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)).StartsWith(TempDirectoryPrefix, StringComparison.Ordinal))
        {
            problems.Add($"refusing to delete '{directory}': not a sandbox temp directory");
            return;
        }

        // Mounts live in the app's own mount namespace; one showing up here would mean /usr could be deleted through it.
        var mounted = HostMountPoints().FirstOrDefault(m => ContainerPaths.IsSameOrUnder(m, directory));
        if (mounted is not null)
        {
            problems.Add($"refusing to delete '{directory}': '{mounted}' is mounted on the host");
            return;
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"delete '{directory}': {e.Message}");
        }
    }

    private static IEnumerable<string> HostMountPoints() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4)
            .Select(fields => OctalEscape().Replace(fields[4], m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()));

    [GeneratedRegex(@"\\([0-7]{3})")]
    private static partial Regex OctalEscape();
}
