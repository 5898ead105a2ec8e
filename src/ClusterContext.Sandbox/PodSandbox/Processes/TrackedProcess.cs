using System.Diagnostics;

namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>A process the sandbox started and must kill on teardown, identified by pid and start time.</summary>
internal sealed class TrackedProcess : IDisposable
{
    private TrackedProcess(string name, Process process, bool ownedByCaller)
    {
        Name = name;
        Process = process;
        OwnedByCaller = ownedByCaller;
        Pid = process.Id;

        // Read right away: the pid survives the exec chain, so this is also the final program's start time.
        StartTime = ProcFs.TryReadStartTime(Pid) ?? 0;
    }

    public string Name { get; }

    public Process Process { get; }

    public int Pid { get; }

    public long StartTime { get; }

    /// <summary>Whether the <see cref="Process"/> object was handed out; its owner may still read it after the kill.</summary>
    public bool OwnedByCaller { get; }

    /// <summary>What the process printed, when the sandbox captures its output.</summary>
    public OutputTail Output { get; } = new();

    /// <summary>What the process printed, line by line with times and streams, when the sandbox captures its output.</summary>
    public ContainerOutput Lines { get; } = new();

    public bool HasExited => !ProcFs.IsRunning(Pid, StartTime);

    /// <summary>Starts a process for a caller, who handles its output (or not) as <paramref name="info"/> says.</summary>
    public static TrackedProcess StartForCaller(string name, ProcessStartInfo info) => Start(name, info, ownedByCaller: true);

    /// <summary>Starts a long-running service whose stdout and stderr are drained into <see cref="Output"/>.</summary>
    public static TrackedProcess StartCapturing(string name, ProcessStartInfo info)
    {
        // A service whose pipes are not drained blocks once the pipe buffer fills, so both are read continuously.
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var tracked = Start(name, info, ownedByCaller: false);
        tracked.Process.OutputDataReceived += (_, e) =>
        {
            tracked.Output.Append(e.Data);
            tracked.Lines.Append(isError: false, e.Data);
        };
        tracked.Process.ErrorDataReceived += (_, e) =>
        {
            tracked.Output.Append(e.Data);
            tracked.Lines.Append(isError: true, e.Data);
        };
        tracked.Process.BeginOutputReadLine();
        tracked.Process.BeginErrorReadLine();
        tracked.Process.StandardInput.Close();
        return tracked;
    }

    /// <summary>Waits briefly for the output readers so an error report includes the last words of a process that died.</summary>
    public async Task<string> ReadOutputAfterExitAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            await Process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Report what arrived so far.
        }
        catch (InvalidOperationException)
        {
            // The caller disposed the Process; report what arrived so far.
        }

        return Output.ToString();
    }

    public Task<string?> StopAsync(TimeSpan timeout) => ProcessTermination.KillAsync(Name, Pid, StartTime, timeout);

    public void Dispose() => Process.Dispose();

    private static TrackedProcess Start(string name, ProcessStartInfo info, bool ownedByCaller) =>
        new(name, Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}."), ownedByCaller);
}
