using System.Diagnostics;
using ClusterContext.Testing.Sandbox.Registry;

namespace ClusterContext.Testing.Sandbox.Tests;

public sealed class StaleSandboxSweepTests
{
    [Fact]
    public async Task Start_removes_a_sandbox_whose_owner_died()
    {
        var (index, orphan) = await LeaveStaleSandboxAsync();
        try
        {
            Assert.NotEmpty(SandboxResources.Remaining(index));

            await using var sandbox = await PodSandbox.StartAsync(new PodSandboxOptions { StartRedis = false });

            Assert.True(orphan.WaitForExit(5_000), "the stale sandbox's process still runs");
            Assert.Empty(SandboxResources.Remaining(index));
        }
        finally
        {
            if (!orphan.HasExited)
            {
                orphan.Kill();
            }

            orphan.Dispose();
        }
    }

    /// <summary>Makes what a crashed test run leaves: namespace, route, temp dir, a process, and a state file whose owner is gone.</summary>
    private static async Task<(int Index, Process Orphan)> LeaveStaleSandboxAsync()
    {
        // Count down from the top so a concurrent start (which counts up) does not want the same number meanwhile.
        var index = Enumerable.Range(1, SandboxRegistry.MaxIndex).Reverse().First(i => SandboxResources.Remaining(i).Count == 0);
        var podNamespace = $"cc{index}-pod";
        SandboxResources.Run("ip", "netns", "add", podNamespace);
        SandboxResources.Run("ip", "route", "add", "unreachable", $"10.241.{index}.0/24");
        var tempDirectory = Directory.CreateTempSubdirectory($"clustercontext-sandbox-{index}-").FullName;
        var orphan = Process.Start("nsenter", [$"--net=/run/netns/{podNamespace}", "--", "/usr/bin/sleep", "60"]);
        var startTime = long.Parse(File.ReadAllText($"/proc/{orphan.Id}/stat").Split(") ")[1].Split(' ')[19], System.Globalization.CultureInfo.InvariantCulture);

        // This process's pid with a start time it never had: an owner that has died (and whose pid was reused).
        var state = new SandboxState
        {
            Index = index,
            OwnerPid = Environment.ProcessId,
            OwnerStartTime = 1,
            PodNamespace = podNamespace,
            ServicesNamespace = $"cc{index}-svc",
            HostInterface = $"cc{index}-h",
            UnreachableRoute = $"10.241.{index}.0/24",
            TempDirectory = tempDirectory,
            Processes = [new SandboxStateProcess("orphan", orphan.Id, startTime)],
        };
        Directory.CreateDirectory(SandboxRegistry.StateDirectory);
        SandboxLease.Write(state, SandboxRegistry.StatePath(index));
        await Task.Yield();
        return (index, orphan);
    }
}
