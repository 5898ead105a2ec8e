using System.Diagnostics;
using ClusterContext.Testing.Sandbox.Processes;
using ClusterContext.Testing.Sandbox.Registry;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    /// <summary>
    /// Kills every process the sandbox started, deletes its namespaces (and with them the veth pairs), the host
    /// route and the temp directory. Never throws; what failed is logged and kept in <see cref="TeardownProblems"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        TrackedProcess[] processes;
        lock (_processesLock)
        {
            // Under the lock, so no process can be added after the snapshot and escape the kill.
            if (_disposed != 0)
            {
                return;
            }

            _disposed = 1;
            processes = [.. _processes];
        }

        var stopwatch = Stopwatch.StartNew();

        // Processes first: a namespace with a process in it outlives `ip netns del`.
        var kills = await Task.WhenAll(processes.Select(p => p.StopAsync(s_killTimeout))).ConfigureAwait(false);
        _teardownProblems.AddRange(kills.OfType<string>());
        await SandboxCleanup.RemoveAsync(_tools, _lease.State, _teardownProblems).ConfigureAwait(false);
        try
        {
            _lease.Delete();
        }
        catch (IOException e)
        {
            _teardownProblems.Add($"delete {_lease.Path}: {e.Message}");
        }

        // Processes from StartInPod belong to the caller, who may still read their exit code.
        foreach (var process in processes.Where(p => !p.OwnedByCaller))
        {
            process.Dispose();
        }

        _volumes?.Dispose();
        foreach (var problem in _teardownProblems)
        {
            SandboxLog.TeardownProblem(_logger, Index, problem);
        }

        SandboxLog.Disposed(_logger, Index, stopwatch.ElapsedMilliseconds);
    }
}
