using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>A pseudo-terminal's master side, as a container runtime allocates one for an exec with a TTY.</summary>
internal sealed partial class Pty : IDisposable
{
    private const int OpenReadWrite = 0x2;
    private const int OpenNoControllingTerminal = 0x100;
    private const int OpenCloseOnExec = 0x80000;
    private const nuint SetWindowSize = 0x5414; // TIOCSWINSZ

    private Pty(SafeFileHandle master, string slavePath)
    {
        Master = master;
        SlavePath = slavePath;
    }

    public SafeFileHandle Master { get; }

    /// <summary>The slave's device path (/dev/pts/N), which the child opens as its terminal.</summary>
    public string SlavePath { get; }

    public static Pty Open()
    {
        var fd = PosixOpenPt(OpenReadWrite | OpenNoControllingTerminal | OpenCloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"posix_openpt failed: errno {Marshal.GetLastPInvokeError()}");
        }

        var master = new SafeFileHandle(fd, ownsHandle: true);
        var name = new byte[128];
        if (GrantPt(fd) != 0 || UnlockPt(fd) != 0 || PtsName(fd, name, (nuint)name.Length) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            master.Dispose();
            throw new IOException($"setting up the pseudo-terminal failed: errno {errno}");
        }

        return new Pty(master, System.Text.Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0)));
    }

    /// <summary>Sets the terminal's size; the foreground process group gets SIGWINCH.</summary>
    public void Resize(ushort columns, ushort rows)
    {
        var size = new WindowSize { Rows = rows, Columns = columns };
        _ = IoctlWindowSize(checked((int)Master.DangerousGetHandle()), SetWindowSize, ref size);
    }

    public void Dispose() => Master.Dispose();

    [StructLayout(LayoutKind.Sequential)]
    private struct WindowSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport("libc", EntryPoint = "posix_openpt", SetLastError = true)]
    private static partial int PosixOpenPt(int flags);

    [LibraryImport("libc", EntryPoint = "grantpt", SetLastError = true)]
    private static partial int GrantPt(int fd);

    [LibraryImport("libc", EntryPoint = "unlockpt", SetLastError = true)]
    private static partial int UnlockPt(int fd);

    [LibraryImport("libc", EntryPoint = "ptsname_r", SetLastError = true)]
    private static partial int PtsName(int fd, [Out] byte[] buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlWindowSize(int fd, nuint request, ref WindowSize size);
}
