using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

internal static unsafe partial class LibC
{
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int ProtExec = 4;
    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;
    public const int MapFixedNoReplace = 0x100000;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Mprotect(void* address, nuint length, int protection);
}
