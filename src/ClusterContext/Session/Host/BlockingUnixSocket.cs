using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace ClusterContext.Session.Host;

/// <summary>
/// A Unix stream socket driven by blocking system calls, for a process's start joining a running session host. The
/// first <see cref="Socket"/> a process makes costs 8–15 ms here (the type's set-up and its event sources), which a
/// joining start would pay before the app's <c>Main</c>; the calls themselves take microseconds. Once joined, the
/// descriptor becomes a <see cref="Socket"/> (<see cref="ToSocket"/>, off the start's path) for the rest of the process.
/// </summary>
internal sealed unsafe partial class BlockingUnixSocket : IDisposable
{
    private const int AddressFamilyUnix = 1;
    private const int StreamCloseOnExec = 1 | 0x80000; // SOCK_STREAM | SOCK_CLOEXEC
    private const int SocketLevel = 1; // SOL_SOCKET
    private const int ReceiveTimeoutOption = 20; // SO_RCVTIMEO
    private const int SendTimeoutOption = 21; // SO_SNDTIMEO
    private const int Peek = 0x2; // MSG_PEEK
    private const int NoSignal = 0x4000; // MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE
    private const int Interrupted = 4; // EINTR
    private const int WouldBlock = 11; // EAGAIN: the timeout passed
    private const int MaxPath = 108; // sizeof(sockaddr_un.sun_path)
    private const int NoSuchFile = 2; // ENOENT: no socket there
    private const int Refused = 111; // ECONNREFUSED: a socket nobody listens on

    private int _fd;

    private BlockingUnixSocket(int fd) => _fd = fd;

    /// <summary>Connected to <paramref name="path"/>, each later call bounded by <paramref name="timeout"/>; null when nothing listens there.</summary>
    public static BlockingUnixSocket? TryConnect(string path, TimeSpan timeout) => TryConnect(path, timeout, out _);

    /// <summary>As <see cref="TryConnect(string, TimeSpan)"/>; <paramref name="nobody"/> tells that no socket is there or none listens on it (not a failure of another kind).</summary>
    public static BlockingUnixSocket? TryConnect(string path, TimeSpan timeout, out bool nobody)
    {
        nobody = false;
        var name = Encoding.UTF8.GetBytes(path);
        if (name.Length >= MaxPath)
        {
            return null;
        }

        var fd = SocketCall(AddressFamilyUnix, StreamCloseOnExec, 0);
        if (fd < 0)
        {
            return null;
        }

        var socket = new BlockingUnixSocket(fd);
        // struct timeval { time_t tv_sec; suseconds_t tv_usec; }; struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }.
        var ticks = (long)Math.Min(timeout.TotalMicroseconds, int.MaxValue * 1_000_000.0);
        long* limit = stackalloc long[2];
        limit[0] = ticks / 1_000_000;
        limit[1] = ticks % 1_000_000;
        byte* address = stackalloc byte[2 + MaxPath];
        new Span<byte>(address, 2 + MaxPath).Clear();
        *(ushort*)address = AddressFamilyUnix;
        name.CopyTo(new Span<byte>(address + 2, MaxPath));
        if (SetOption(fd, SocketLevel, ReceiveTimeoutOption, limit, 16) != 0
            || SetOption(fd, SocketLevel, SendTimeoutOption, limit, 16) != 0
            || Connect(fd, address, (uint)(2 + name.Length + 1)) != 0)
        {
            nobody = Marshal.GetLastPInvokeError() is NoSuchFile or Refused;
            socket.Dispose();
            return null;
        }

        return socket;
    }

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            for (var sent = 0; sent < data.Length;)
            {
                var count = Send(Descriptor, start + sent, (nuint)(data.Length - sent), NoSignal);
                if (count < 0)
                {
                    ThrowUnlessInterrupted("send to");
                    continue;
                }

                sent += (int)count;
            }
        }
    }

    /// <summary>What is there (left in the socket with <paramref name="peek"/>), waiting for something; 0 at the end of the connection.</summary>
    public int Receive(Span<byte> buffer, bool peek)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var count = ReceiveCall(Descriptor, start, (nuint)buffer.Length, peek ? Peek : 0);
                if (count >= 0)
                {
                    return (int)count;
                }

                ThrowUnlessInterrupted("read from");
            }
        }
    }

    /// <summary>The descriptor as a <see cref="Socket"/>, which owns it from now on.</summary>
    public Socket ToSocket()
    {
        var socket = new Socket(new SafeSocketHandle(Descriptor, ownsHandle: true))
        {
            // The blocking calls' bounds go with the descriptor; the socket's users set their own.
            ReceiveTimeout = 0,
            SendTimeout = 0,
        };
        _fd = -1;
        return socket;
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            _ = Close(_fd);
            _fd = -1;
        }
    }

    private int Descriptor => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(BlockingUnixSocket));

    private static void ThrowUnlessInterrupted(string what)
    {
        var error = Marshal.GetLastPInvokeError();
        if (error == Interrupted)
        {
            return;
        }

        throw error == WouldBlock
            ? new IOException($"The session host did not answer in time (cannot {what} its socket).")
            : new IOException($"Cannot {what} the session host's socket: {Marshal.GetPInvokeErrorMessage(error)}.");
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketCall(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetOption(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int Connect(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint ReceiveCall(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
