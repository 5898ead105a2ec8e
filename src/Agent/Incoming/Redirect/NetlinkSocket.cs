using System.Runtime.InteropServices;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// An AF_NETLINK/NETLINK_NETFILTER socket by P/Invoke (.NET's <c>Socket</c> has no netlink family). Its lifetime is
/// the redirect's lifetime: the kernel destroys the owner table when this socket is closed, and the process dying
/// closes it, so the descriptor is close-on-exec (a child inheriting it would keep the redirect alive).
/// </summary>
internal sealed unsafe partial class NetlinkSocket : IDisposable
{
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int MsgDontwait = 0x40;
    private const int EAGAIN = 11;
    private const int EINTR = 4;

    private int _fd;

    private NetlinkSocket(int fd) => _fd = fd;

    /// <summary>Opens the socket in the calling thread's network namespace; returns the errno on failure.</summary>
    public static NetlinkSocket? Open(out int errno)
    {
        var fd = Socket(NfTables.AfNetlink, SockRaw | SockCloexec, NfTables.NetlinkNetfilter);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        // struct sockaddr_nl with nl_pid 0: the kernel picks a unique port id; nl_groups 0: no multicast, only replies.
        var address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = NfTables.AfNetlink;
        if (Bind(fd, address, 12) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            Close(fd);
            return null;
        }

        errno = 0;
        return new NetlinkSocket(fd);
    }

    /// <summary>Sends one datagram to the kernel; returns 0 or the errno.</summary>
    public int Send(ReadOnlySpan<byte> datagram)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        fixed (byte* p = datagram)
        {
            while (true)
            {
                var sent = SendNative(_fd, p, (nuint)datagram.Length, 0);
                if (sent >= 0)
                {
                    return sent == datagram.Length ? 0 : 90; // EMSGSIZE: netlink never sends part of a datagram
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    return errno;
                }
            }
        }
    }

    /// <summary>
    /// Receives one datagram without waiting. The kernel processes a batch inside the send call, so every reply to
    /// it is queued before <see cref="Send"/> returns: an empty queue (0 bytes here) means all replies were read.
    /// </summary>
    public int ReceiveNow(Span<byte> buffer, out int errno)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var received = Recv(_fd, p, (nuint)buffer.Length, MsgDontwait);
                if (received >= 0)
                {
                    errno = 0;
                    return (int)received;
                }

                errno = Marshal.GetLastPInvokeError();
                if (errno == EAGAIN)
                {
                    errno = 0;
                    return 0;
                }

                if (errno != EINTR)
                {
                    return -1;
                }
            }
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendNative(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
