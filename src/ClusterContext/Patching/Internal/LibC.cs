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
    public const int OpenReadOnly = 0;
    public const int OpenCloseOnExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "opendir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint OpenDir(string path);

    [LibraryImport("libc", EntryPoint = "readdir")]
    public static partial byte* ReadDir(nint directory);

    [LibraryImport("libc", EntryPoint = "closedir")]
    public static partial int CloseDir(nint directory);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    /// <summary>
    /// The owner of <paramref name="path"/> itself (a symbolic link is not followed) and whether it is a directory, or
    /// null when it cannot be read. statx: its layout is the same on every architecture, unlike struct stat's.
    /// </summary>
    public static (uint Owner, bool Directory)? OwnerOf(string path)
    {
        var buffer = stackalloc byte[256];
        // AT_FDCWD, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_UID
        if (Statx(-100, path, 0x100, 0x1 | 0x8, buffer) != 0)
        {
            return null;
        }

        // struct statx: stx_uid at 20, stx_mode (16 bits) at 28.
        var mode = *(ushort*)(buffer + 28);
        return (*(uint*)(buffer + 20), (mode & 0xF000) == 0x4000);
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();
}
