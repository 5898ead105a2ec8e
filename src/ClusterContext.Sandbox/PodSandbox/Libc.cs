using System.Runtime.InteropServices;

namespace ClusterContext.Testing.Sandbox;

/// <summary>System calls .NET does not expose: entering a network namespace, replacing a symlink atomically, and signalling a pid that is not a child.</summary>
internal static partial class Libc
{
    public const int CloneNewNet = 0x40000000;
    public const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nsType);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
