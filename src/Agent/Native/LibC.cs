using System.Runtime.InteropServices;

namespace ClusterContext.Agent.Native;

/// <summary>The few Linux calls .NET does not expose: openat2 with in-root resolution, statx, getdents64, readlinkat.</summary>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    // The generic syscall numbers of openat2 are the same on x86-64 and arm64.
    private const long SysOpenat2 = 437;

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, int dirfd, byte* path, OpenHow* how, nuint size);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte* path, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxNative(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport(Library, EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "readlinkat", SetLastError = true)]
    private static partial nint ReadLinkAt(int dirfd, byte* path, byte* buffer, nuint size);

    public static int OpenDirectoryPath(string path)
    {
        fixed (byte* p = Utf8Z(path))
        {
            return Open(p, OpenFlags.Path | OpenFlags.Directory | OpenFlags.CloseOnExec);
        }
    }

    public static int Openat2(int dirfd, string path, long flags, ulong resolve, uint mode = 0)
    {
        var how = new OpenHow { Flags = (ulong)flags, Mode = mode, Resolve = resolve };
        fixed (byte* p = Utf8Z(path))
        {
            return (int)Syscall4(SysOpenat2, dirfd, p, &how, (nuint)sizeof(OpenHow));
        }
    }

    public static int Statx(int fd, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        fixed (byte* p = "\0"u8)
        {
            return StatxNative(fd, p, AtEmptyPath | AtSymlinkNoFollow, StatxBasicStats, b);
        }
    }

    public static int StatxAt(int dirfd, string name, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        fixed (byte* p = Utf8Z(name))
        {
            return StatxNative(dirfd, p, AtSymlinkNoFollow, StatxBasicStats, b);
        }
    }

    public static nint ReadDirectoryEntries(int fd, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            return GetDents64(fd, b, (nuint)buffer.Length);
        }
    }

    public static nint ReadLink(int fd, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        fixed (byte* p = "\0"u8)
        {
            return ReadLinkAt(fd, p, b, (nuint)buffer.Length);
        }
    }

    private static byte[] Utf8Z(string value)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(value) + 1];
        System.Text.Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    public const int AtEmptyPath = 0x1000;
    public const int AtSymlinkNoFollow = 0x100;
    public const uint StatxBasicStats = 0x7ff;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }
}
