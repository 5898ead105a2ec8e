using System.Text;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Target;

/// <summary>The process whose context the agent serves: its environment, mounts and root file system.</summary>
internal sealed class TargetProcess(int pid)
{
    public int Pid { get; } = pid;

    public string RootPath { get; } = $"/proc/{pid}/root";

    /// <summary>Fails with a message that says what to check when the target cannot be served.</summary>
    public void EnsureAccessible()
    {
        if (!Directory.Exists($"/proc/{Pid}"))
        {
            throw new InvalidOperationException($"No process {Pid} is visible to the agent. Run the agent in the target's PID namespace (an ephemeral container with targetContainerName), or pass --target-pid.");
        }

        try
        {
            _ = File.ReadAllBytes($"/proc/{Pid}/environ");
            _ = Directory.GetFileSystemEntries(RootPath);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new InvalidOperationException($"The agent may not read process {Pid}'s environment or root ({ex.Message}). It needs the same user as the target, or CAP_SYS_PTRACE.", ex);
        }
    }

    /// <summary>The variables of <c>/proc/PID/environ</c>, in order; entries without '=' are skipped.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ReadEnvironment()
    {
        var bytes = ReadProcFile("environ");
        var variables = new List<KeyValuePair<string, string>>();
        foreach (var entry in Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = entry.IndexOf('=', StringComparison.Ordinal);
            if (separator > 0)
            {
                variables.Add(new KeyValuePair<string, string>(entry[..separator], entry[(separator + 1)..]));
            }
        }

        return variables;
    }

    /// <summary>The mounts of <c>/proc/PID/mountinfo</c>, whose mount points are already relative to the target's root.</summary>
    public IReadOnlyList<MountEntry> ReadMounts() => MountInfoParser.Parse(Encoding.UTF8.GetString(ReadProcFile("mountinfo")));

    private byte[] ReadProcFile(string name)
    {
        try
        {
            return File.ReadAllBytes($"/proc/{Pid}/{name}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RemoteException(ErrorCode.NotFound, $"Cannot read /proc/{Pid}/{name}: {ex.Message} The target process may have exited.");
        }
    }
}
