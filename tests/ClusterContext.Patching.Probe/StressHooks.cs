using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// Replacements for the stress run. A call counts only when the calling thread marked it as made after the install
/// (<see cref="Expected"/>), so that calls seen and calls made can be compared exactly. Network choke points answer
/// themselves most of the time (no peer needed), and call the original now and then so that it keeps being exercised.
/// </summary>
internal static unsafe class StressHooks
{
    public const int FileOpen = 0;
    public const int FileExists = 1;
    public const int DirectoryExists = 2;
    public const int FileStatus = 3;
    public const int DirectoryOpen = 4;
    public const int Dns = 5;
    public const int DnsAsync = 6;
    public const int Connect = 7;
    public const int ConnectAsync = 8;
    public const int Bind = 9;
    public const int Listen = 10;
    public const int Count = 11;

    public static readonly long[] Seen = new long[Count];
    public static readonly nint[] Originals = new nint[Count];
    private static readonly Task<IPAddress[]> Loopback = Task.FromResult(new[] { IPAddress.Loopback });

    /// <summary>Which choke point the current call of this thread is counted for (its index + 1), 0 when not counted.</summary>
    [ThreadStatic]
    public static int Expected;

    [ThreadStatic]
    private static int t_calls;

    public static object OnFileOpen(string fullPath, FileMode mode, FileAccess access, FileShare share, FileOptions options, long preallocationSize,
        UnixFileMode openPermissions, out long fileLength, out UnixFileMode filePermissions, bool failForSymlink, out bool wasSymlink, object? createOpenException)
    {
        Saw(FileOpen);
        return ((delegate*<string, FileMode, FileAccess, FileShare, FileOptions, long, UnixFileMode, out long, out UnixFileMode, bool, out bool, object?, object>)Originals[FileOpen])(
            fullPath, mode, access, share, options, preallocationSize, openPermissions, out fileLength, out filePermissions, failForSymlink, out wasSymlink, createOpenException);
    }

    public static bool OnFileExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        Saw(FileExists);
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)Originals[FileExists])(fullPath, ref errorInfo);
    }

    public static bool OnDirectoryExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        Saw(DirectoryExists);
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)Originals[DirectoryExists])(fullPath, ref errorInfo);
    }

    public static void OnFileStatus(ref byte self, SafeFileHandle? handle, ReadOnlySpan<char> path)
    {
        Saw(FileStatus);
        ((delegate*<ref byte, SafeFileHandle?, ReadOnlySpan<char>, void>)Originals[FileStatus])(ref self, handle, path);
    }

    public static nint OnDirectoryOpen(string path)
    {
        Saw(DirectoryOpen);
        return ((delegate*<string, nint>)Originals[DirectoryOpen])(path);
    }

    public static SocketError OnDns(string name, bool justAddresses, AddressFamily family, out string? hostName, out string[] aliases, out IPAddress[] addresses, out int nativeErrorCode)
    {
        if (Saw(Dns) % 1000 != 0)
        {
            hostName = name;
            aliases = [];
            addresses = [IPAddress.Loopback];
            nativeErrorCode = 0;
            return SocketError.Success;
        }

        return ((delegate*<string, bool, AddressFamily, out string?, out string[], out IPAddress[], out int, SocketError>)Originals[Dns])(
            name, justAddresses, family, out hostName, out aliases, out addresses, out nativeErrorCode);
    }

    public static object OnDnsAsync(string hostName, bool justReturnParsedIp, bool throwOnIIPAny, bool justAddresses, AddressFamily family, CancellationToken cancellationToken)
    {
        Saw(DnsAsync);
        return Loopback;
    }

    public static void OnConnect(Socket socket, EndPoint endPoint, SocketAddress address) => Saw(Connect);

    public static bool OnConnectAsync(Socket socket, SocketAsyncEventArgs e, bool userSocket, bool saeaCancelable, CancellationToken cancellationToken)
    {
        Saw(ConnectAsync);
        return false;
    }

    public static void OnBind(Socket socket, EndPoint endPoint, SocketAddress address)
    {
        if (Saw(Bind) % 1000 == 0)
        {
            ((delegate*<Socket, EndPoint, SocketAddress, void>)Originals[Bind])(socket, endPoint, address);
        }
    }

    public static void OnListen(Socket socket, int backlog) => Saw(Listen);

    private static int Saw(int chokePoint)
    {
        if (Expected == chokePoint + 1)
        {
            Interlocked.Increment(ref Seen[chokePoint]);
        }

        return ++t_calls;
    }
}
