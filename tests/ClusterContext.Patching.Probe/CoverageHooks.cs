using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Patching.Probe;

/// <summary>Pass-through replacements for every choke point that only count, so that a test can see which public API passes where.</summary>
internal static unsafe class CoverageHooks
{
    public static readonly Dictionary<string, nint> Originals = [];
    public static readonly Dictionary<string, int> Seen = [];

    public static object FileOpen(string fullPath, FileMode mode, FileAccess access, FileShare share, FileOptions options, long preallocationSize,
        UnixFileMode openPermissions, out long fileLength, out UnixFileMode filePermissions, bool failForSymlink, out bool wasSymlink, object? createOpenException)
    {
        Count("file-open");
        return ((delegate*<string, FileMode, FileAccess, FileShare, FileOptions, long, UnixFileMode, out long, out UnixFileMode, bool, out bool, object?, object>)Originals["file-open"])(
            fullPath, mode, access, share, options, preallocationSize, openPermissions, out fileLength, out filePermissions, failForSymlink, out wasSymlink, createOpenException);
    }

    public static bool FileExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        Count("file-exists");
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)Originals["file-exists"])(fullPath, ref errorInfo);
    }

    public static bool DirectoryExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        Count("directory-exists");
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)Originals["directory-exists"])(fullPath, ref errorInfo);
    }

    public static void FileStatus(ref byte self, SafeFileHandle? handle, ReadOnlySpan<char> path)
    {
        Count("file-status");
        ((delegate*<ref byte, SafeFileHandle?, ReadOnlySpan<char>, void>)Originals["file-status"])(ref self, handle, path);
    }

    public static nint DirectoryOpen(string path)
    {
        Count("directory-open");
        return ((delegate*<string, nint>)Originals["directory-open"])(path);
    }

    public static int FileWatch(SafeFileHandle inotify, string path, uint mask)
    {
        Count("file-watch");
        return ((delegate*<SafeFileHandle, string, uint, int>)Originals["file-watch"])(inotify, path, mask);
    }

    public static SocketError Dns(string name, bool justAddresses, AddressFamily family, out string? hostName, out string[] aliases, out IPAddress[] addresses, out int nativeErrorCode)
    {
        Count("dns");
        return ((delegate*<string, bool, AddressFamily, out string?, out string[], out IPAddress[], out int, SocketError>)Originals["dns"])(
            name, justAddresses, family, out hostName, out aliases, out addresses, out nativeErrorCode);
    }

    public static object DnsAsync(string hostName, bool justReturnParsedIp, bool throwOnIIPAny, bool justAddresses, AddressFamily family, CancellationToken cancellationToken)
    {
        Count("dns-async");
        return ((delegate*<string, bool, bool, bool, AddressFamily, CancellationToken, object>)Originals["dns-async"])(
            hostName, justReturnParsedIp, throwOnIIPAny, justAddresses, family, cancellationToken);
    }

    public static void Connect(Socket socket, EndPoint endPoint, SocketAddress address)
    {
        Count("connect");
        ((delegate*<Socket, EndPoint, SocketAddress, void>)Originals["connect"])(socket, endPoint, address);
    }

    public static bool ConnectAsync(Socket socket, SocketAsyncEventArgs e, bool userSocket, bool saeaCancelable, CancellationToken cancellationToken)
    {
        Count("connect-async");
        return ((delegate*<Socket, SocketAsyncEventArgs, bool, bool, CancellationToken, bool>)Originals["connect-async"])(socket, e, userSocket, saeaCancelable, cancellationToken);
    }

    public static int ReceiveFrom(SafeSocketHandle socket, SocketFlags flags, Span<byte> buffer, Span<byte> address, ref int addressLength, ref SocketFlags received, ref int errno)
    {
        Count("receive-from");
        return ((delegate*<SafeSocketHandle, SocketFlags, Span<byte>, Span<byte>, ref int, ref SocketFlags, ref int, int>)Originals["receive-from"])(socket, flags, buffer, address, ref addressLength, ref received, ref errno);
    }

    public static int ReceiveFromList(SafeSocketHandle socket, SocketFlags flags, IList<ArraySegment<byte>> buffers, Span<byte> address, ref int addressLength, ref SocketFlags received, ref int errno)
    {
        Count("receive-from-list");
        return ((delegate*<SafeSocketHandle, SocketFlags, IList<ArraySegment<byte>>, Span<byte>, ref int, ref SocketFlags, ref int, int>)Originals["receive-from-list"])(socket, flags, buffers, address, ref addressLength, ref received, ref errno);
    }

    public static int ReceiveMessageFrom(SafeSocketHandle socket, SocketFlags flags, Span<byte> buffer, Span<byte> address, ref int addressLength, bool isIPv4, bool isIPv6, ref SocketFlags received, ref IPPacketInformation information, ref int errno)
    {
        Count("receive-message-from");
        return ((delegate*<SafeSocketHandle, SocketFlags, Span<byte>, Span<byte>, ref int, bool, bool, ref SocketFlags, ref IPPacketInformation, ref int, int>)Originals["receive-message-from"])(
            socket, flags, buffer, address, ref addressLength, isIPv4, isIPv6, ref received, ref information, ref errno);
    }

    public static int ReceiveMessageFromList(SafeSocketHandle socket, SocketFlags flags, IList<ArraySegment<byte>> buffers, Span<byte> address, ref int addressLength, bool isIPv4, bool isIPv6, ref SocketFlags received, ref IPPacketInformation information, ref int errno)
    {
        Count("receive-message-from-list");
        return ((delegate*<SafeSocketHandle, SocketFlags, IList<ArraySegment<byte>>, Span<byte>, ref int, bool, bool, ref SocketFlags, ref IPPacketInformation, ref int, int>)Originals["receive-message-from-list"])(
            socket, flags, buffers, address, ref addressLength, isIPv4, isIPv6, ref received, ref information, ref errno);
    }

    public static int SendTo(Socket socket, byte[] buffer, int offset, int size, SocketFlags flags, EndPoint remote)
    {
        Count("send-to");
        return ((delegate*<Socket, byte[], int, int, SocketFlags, EndPoint, int>)Originals["send-to"])(socket, buffer, offset, size, flags, remote);
    }

    public static int SendToSpan(Socket socket, ReadOnlySpan<byte> buffer, SocketFlags flags, EndPoint remote)
    {
        Count("send-to-span");
        return ((delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, EndPoint, int>)Originals["send-to-span"])(socket, buffer, flags, remote);
    }

    public static ValueTask<int> SendToAsync(Socket socket, ReadOnlyMemory<byte> buffer, SocketFlags flags, EndPoint remote, CancellationToken cancellationToken)
    {
        Count("send-to-async");
        return ((delegate*<Socket, ReadOnlyMemory<byte>, SocketFlags, EndPoint, CancellationToken, ValueTask<int>>)Originals["send-to-async"])(socket, buffer, flags, remote, cancellationToken);
    }

    public static void Bind(Socket socket, EndPoint endPoint, SocketAddress address)
    {
        Count("bind");
        ((delegate*<Socket, EndPoint, SocketAddress, void>)Originals["bind"])(socket, endPoint, address);
    }

    public static void Listen(Socket socket, int backlog)
    {
        Count("listen");
        ((delegate*<Socket, int, void>)Originals["listen"])(socket, backlog);
    }

    private static void Count(string name)
    {
        lock (Seen)
        {
            Seen[name] = Seen.GetValueOrDefault(name) + 1;
        }
    }
}
