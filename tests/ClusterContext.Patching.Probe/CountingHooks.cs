using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Patching.Probe;

/// <summary>Pass-through replacements that count every call. Parameters the BCL keeps internal are declared by their machine-level shape.</summary>
internal static unsafe class CountingHooks
{
    public static long FileOpenCalls;
    public static long FileExistsCalls;
    public static long DnsCalls;
    public static long ConnectCalls;

    public static nint FileOpenOriginal;
    public static nint FileExistsOriginal;
    public static nint DnsOriginal;
    public static nint ConnectOriginal;

    /// <summary>When set, DNS and connect hooks answer themselves instead of calling the original (no name service or peer needed).</summary>
    public static bool ShortCircuitNetwork;

    public static object FileOpen(string fullPath, FileMode mode, FileAccess access, FileShare share, FileOptions options, long preallocationSize,
        UnixFileMode openPermissions, out long fileLength, out UnixFileMode filePermissions, bool failForSymlink, out bool wasSymlink, object? createOpenException)
    {
        Interlocked.Increment(ref FileOpenCalls);
        return ((delegate*<string, FileMode, FileAccess, FileShare, FileOptions, long, UnixFileMode, out long, out UnixFileMode, bool, out bool, object?, object>)FileOpenOriginal)(
            fullPath, mode, access, share, options, preallocationSize, openPermissions, out fileLength, out filePermissions, failForSymlink, out wasSymlink, createOpenException);
    }

    public static bool FileExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        Interlocked.Increment(ref FileExistsCalls);
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)FileExistsOriginal)(fullPath, ref errorInfo);
    }

    public static SocketError Dns(string name, bool justAddresses, AddressFamily family, out string? hostName, out string[] aliases, out IPAddress[] addresses, out int nativeErrorCode)
    {
        var calls = Interlocked.Increment(ref DnsCalls);
        if (ShortCircuitNetwork && calls % 1000 != 0)
        {
            hostName = name;
            aliases = [];
            addresses = [IPAddress.Loopback];
            nativeErrorCode = 0;
            return SocketError.Success;
        }

        return ((delegate*<string, bool, AddressFamily, out string?, out string[], out IPAddress[], out int, SocketError>)DnsOriginal)(
            name, justAddresses, family, out hostName, out aliases, out addresses, out nativeErrorCode);
    }

    public static void Connect(Socket socket, EndPoint endPoint, SocketAddress address)
    {
        Interlocked.Increment(ref ConnectCalls);
        if (!ShortCircuitNetwork)
        {
            ((delegate*<Socket, EndPoint, SocketAddress, void>)ConnectOriginal)(socket, endPoint, address);
        }
    }
}
