using System.Diagnostics;
using System.Globalization;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    /// <summary>
    /// Connects fd 0-2 to the terminal named by $1 (opened by the child, so it can become its controlling terminal
    /// after setsid), then execs the rest.
    /// </summary>
    private const string TerminalScript = """
        exec 0<>"$1" 1>&0 2>&0
        shift
        exec "$@"
        """;

    /// <summary>
    /// Runs <paramref name="command"/> in the app container as a container runtime's exec does: in the container's
    /// mount, network, UTS, IPC and pid namespaces (<c>nsenter -t APP_PID</c>), chrooted to its root and in its
    /// working directory, with its environment (and <c>TERM=xterm</c> with a TTY), in a session of its own;
    /// the program is looked up on the container's PATH. With <paramref name="tty"/> it gets a pseudo-terminal as
    /// its controlling terminal, of <paramref name="columns"/> x <paramref name="rows"/> when given (set before the
    /// command starts, so its first look at the size sees it).
    /// </summary>
    public ContainerExec StartInAppContainer(IReadOnlyList<string> command, bool tty, ushort columns = 0, ushort rows = 0)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        List<string> enter = [_tools.Nsenter, "-t", AppPid.ToString(CultureInfo.InvariantCulture), "-m", "-n", "-u", "-i", "-p", "-r", "-w", "--", .. command];
        var pty = tty ? Pty.Open() : null;
        try
        {
            if (columns > 0 && rows > 0)
            {
                pty?.Resize(columns, rows);
            }

            var info = pty is null
                ? new ProcessStartInfo(_tools.Setsid, enter) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true }
                : new ProcessStartInfo(_tools.Shell, ["-c", TerminalScript, "sh", pty.SlavePath, _tools.Setsid, "--ctty", .. enter]);
            info.UseShellExecute = false;
            info.Environment.Clear();
            foreach (var (name, value) in Environment)
            {
                info.Environment[name] = value;
            }

            if (tty)
            {
                info.Environment.TryAdd("TERM", "xterm");
            }

            var tracked = Track(TrackedProcess.StartForCaller($"exec {Path.GetFileName(command[0])}", info));
            return new ContainerExec(tracked.Process, pty);
        }
        catch
        {
            pty?.Dispose();
            throw;
        }
    }
}
