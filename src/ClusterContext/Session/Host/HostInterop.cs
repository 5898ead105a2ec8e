using System.Runtime.InteropServices;

namespace ClusterContext.Session.Host;

/// <summary>The few Linux calls the session host needs that .NET does not offer: an advisory lock, a session of its own, inotify, its own environment.</summary>
internal static unsafe partial class HostInterop
{
    public const uint InCloseWrite = 0x8;
    public const uint InMovedTo = 0x80;
    public const uint InIgnored = 0x8000;
    private const int OpenReadWrite = 0x2;
    private const int OpenCreate = 0x40;
    private const int OpenCloseOnExec = 0x80000;
    private const int OpenTruncate = 0x200;
    private const int InotifyCloseOnExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, byte* argument);

    /// <summary>
    /// Takes a write lock on the whole file behind <paramref name="fd"/> without waiting (an open-file-description
    /// lock, F_OFD_SETLK: released when the descriptor closes, the process's death included). Not flock: .NET takes a
    /// shared flock on every file it opens, so a flock held here would keep other tools from reading the file.
    /// </summary>
    public static bool TryLock(int fd)
    {
        // struct flock { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; } on 64-bit Linux: 32 bytes.
        var request = stackalloc byte[32];
        new Span<byte>(request, 32).Clear();
        *(short*)request = 1; // F_WRLCK; l_whence SEEK_SET, l_start 0, l_len 0: the whole file
        return Fcntl(fd, 37, request) == 0; // F_OFD_SETLK
    }

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// Points this process's machine root store (OpenSSL's and .NET's: <c>SSL_CERT_FILE</c>, <c>SSL_CERT_DIR</c>) at
    /// nothing, and returns the variables as they were, for the processes it starts. Only while this process runs
    /// one thread: setenv is no call to make beside another thread's getenv.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> HideMachineTrustStore()
    {
        var original = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in (string[])["SSL_CERT_FILE", "SSL_CERT_DIR"])
        {
            original[name] = Marshal.PtrToStringUTF8(GetEnv(name));
            _ = SetEnv(name, "/dev/null", 1);
        }

        return original;
    }

    [LibraryImport("libc", EntryPoint = "setsid")]
    public static partial int SetSid();

    [LibraryImport("libc", EntryPoint = "dup2")]
    public static partial int Dup2(int from, int to);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(int fd, nint length);

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch")]
    public static partial int InotifyRemoveWatch(int fd, int watch);

    /// <summary>Opens (creating, mode 0600) a file for locking; -1 with the error when it cannot.</summary>
    public static int OpenLockFile(string path) => Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, 0x180);

    /// <summary>Opens a file for the host's standard streams (creating it 0600); -1 when it cannot.</summary>
    public static int OpenForStreams(string path) => Open(path, OpenReadWrite | OpenCreate | OpenTruncate | OpenCloseOnExec, 0x180);

    /// <summary>Replaces the content of the file behind <paramref name="fd"/>.</summary>
    public static void Rewrite(int fd, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        _ = Ftruncate(fd, 0);
        fixed (byte* start = bytes)
        {
            // pwrite-like: the descriptor's offset is 0 for a file opened without O_APPEND and never written before.
            _ = Write(fd, start, (nuint)bytes.Length);
        }
    }

    /// <summary>A new inotify instance (close-on-exec), or -1.</summary>
    public static int NewInotify() => InotifyInit(InotifyCloseOnExec);

    /// <summary>Whether the open file behind <paramref name="fd"/> is still the one its path names (not removed or replaced).</summary>
    public static bool StillNamed(int fd, string path)
    {
        try
        {
            var target = File.ResolveLinkTarget($"/proc/self/fd/{fd}", returnFinalTarget: false)?.FullName;
            return target == path;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The user id of the process at the other end of a Unix socket (SO_PEERCRED), or null.</summary>
    public static (int Pid, uint Uid)? PeerCredentials(System.Net.Sockets.Socket socket)
    {
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            // SOL_SOCKET, SO_PEERCRED: struct ucred { pid_t pid; uid_t uid; gid_t gid; }.
            return socket.GetRawSocketOption(1, 17, credentials) == 12
                ? (MemoryMarshal.Read<int>(credentials), MemoryMarshal.Read<uint>(credentials[4..]))
                : null;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    /// <summary>Reads inotify events into <paramref name="buffer"/>; the byte count, or -1.</summary>
    public static int ReadEvents(int fd, byte[] buffer)
    {
        fixed (byte* start = buffer)
        {
            return (int)Patching.Internal.LibC.Read(fd, start, (nuint)buffer.Length);
        }
    }
}
