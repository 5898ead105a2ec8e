namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>
/// Kills by pid and start time, which works the same for this run's children and for orphans of a crashed run
/// (now children of init), and never hits an unrelated process that reused the pid.
/// </summary>
internal static class ProcessTermination
{
    /// <summary>SIGKILLs the process if it still runs and waits until it is gone; returns what went wrong, or <see langword="null"/>.</summary>
    public static async Task<string?> KillAsync(string name, int pid, long startTime, TimeSpan timeout)
    {
        if (!ProcFs.IsRunning(pid, startTime))
        {
            return null;
        }

        // No graceful stop: nothing in a sandbox keeps state worth saving, and teardown should be fast.
        _ = Libc.Kill(pid, Libc.SigKill);
        var deadline = DateTime.UtcNow + timeout;
        while (ProcFs.IsRunning(pid, startTime))
        {
            if (DateTime.UtcNow > deadline)
            {
                return $"{name} (pid {pid}) still runs {timeout.TotalSeconds:0.#} s after SIGKILL";
            }

            await Task.Delay(5).ConfigureAwait(false);
        }

        return null;
    }
}
