using ClusterContext.Testing.Sandbox.Network;
using ClusterContext.Testing.Sandbox.Processes;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Testing.Sandbox.Registry;

/// <summary>
/// Hands out sandbox numbers across all processes on the machine (several test hosts may run at once) and removes
/// sandboxes whose owner died. A lock file serialises claims; each claim is a state file naming its owner.
/// </summary>
internal static class SandboxRegistry
{
    public const int MaxIndex = 254;

    public static string StateDirectory { get; } = "/run/clustercontext-sandbox";

    private static readonly TimeSpan s_lockTimeout = TimeSpan.FromSeconds(60);

    public static string StatePath(int index) => Path.Combine(StateDirectory, $"{index}.json");

    public static async Task<SandboxLease> ClaimAsync(SandboxTools tools, ILogger logger, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(StateDirectory);
        await using var claimLock = await AcquireLockAsync(cancellationToken).ConfigureAwait(false);
        var taken = await SweepAsync(tools, logger).ConfigureAwait(false);
        var namespaces = Directory.Exists("/run/netns")
            ? Directory.EnumerateFileSystemEntries("/run/netns").Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal)
            : [];
        var hostNetwork = (await CommandRunner.RunAsync(tools.Ip, ["-4", "-o", "addr", "show"], cancellationToken).ConfigureAwait(false)).StandardOutput
            + (await CommandRunner.RunAsync(tools.Ip, ["-4", "route", "show", "table", "all"], cancellationToken).ConfigureAwait(false)).StandardOutput;

        // Skip anything that looks taken, even by something that is not a sandbox, so we never disturb it.
        for (var index = 1; index <= MaxIndex; index++)
        {
            var addresses = new SandboxAddresses(index);
            if (taken.Contains(index)
                || namespaces.Contains(addresses.PodNamespace)
                || namespaces.Contains(addresses.ServicesNamespace)
                || namespaces.Contains(addresses.ClientNamespace)
                || Directory.Exists($"/sys/class/net/{addresses.HostInterface}")
                || addresses.IsMentionedIn(hostNetwork))
            {
                continue;
            }

            var state = new SandboxState
            {
                Index = index,
                OwnerPid = System.Environment.ProcessId,
                OwnerStartTime = ProcFs.TryReadStartTime(System.Environment.ProcessId) ?? 0,
                PodNamespace = addresses.PodNamespace,
                ServicesNamespace = addresses.ServicesNamespace,
                HostInterface = addresses.HostInterface,
                UnreachableRoute = addresses.ServicesCidr.ToString(),
            };
            var lease = new SandboxLease(state, StatePath(index));
            lease.Save();
            return lease;
        }

        throw new PodSandboxException($"All {MaxIndex} pod sandbox numbers are in use (see {StateDirectory} and `ip netns list`).");
    }

    /// <summary>Removes sandboxes whose owner is gone; returns the numbers still owned by live processes.</summary>
    private static async Task<HashSet<int>> SweepAsync(SandboxTools tools, ILogger logger)
    {
        var taken = new HashSet<int>();
        foreach (var path in Directory.EnumerateFiles(StateDirectory, "*.json"))
        {
            if (!int.TryParse(Path.GetFileNameWithoutExtension(path), out var index))
            {
                continue;
            }

            var state = SandboxLease.TryRead(path);
            if (state is null || ProcFs.IsRunning(state.OwnerPid, state.OwnerStartTime))
            {
                taken.Add(index); // unreadable files are left alone rather than guessed at
                continue;
            }

            SandboxLog.SweepingStale(logger, index, state.OwnerPid);
            var problems = new List<string>();
            await SandboxCleanup.RemoveAsync(tools, state, problems).ConfigureAwait(false);
            foreach (var problem in problems)
            {
                SandboxLog.TeardownProblem(logger, index, problem);
            }

            File.Delete(path);
        }

        return taken;
    }

    private static async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(StateDirectory, "claim.lock");
        var deadline = DateTime.UtcNow + s_lockTimeout;
        while (true)
        {
            try
            {
                // On Unix, FileShare.None takes an exclusive flock, which other processes honour too.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
