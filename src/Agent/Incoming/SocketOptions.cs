using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// The two netfilter socket options incoming traffic needs. <see cref="Socket.GetRawSocketOption"/> is getsockopt
/// itself, so no P/Invoke of our own is needed.
/// </summary>
internal static class SocketOptions
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int SolSocket = 1;
    private const int SoOriginalDst = 80; // SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share the number.
    private const int SoMark = 36;

    /// <summary>
    /// The address the client connected to before the redirect (conntrack's original destination), or null when the
    /// connection was not redirected (it came to the listener directly, or conntrack has no entry for it).
    /// </summary>
    public static IPEndPoint? OriginalDestination(Socket accepted)
    {
        Span<byte> address = stackalloc byte[28];
        try
        {
            if (accepted.AddressFamily == AddressFamily.InterNetwork)
            {
                var length = accepted.GetRawSocketOption(SolIp, SoOriginalDst, address);
                return length < 8 ? null : new IPEndPoint(new IPAddress(address.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
            }

            var length6 = accepted.GetRawSocketOption(SolIpv6, SoOriginalDst, address);
            return length6 < 24 ? null : new IPEndPoint(new IPAddress(address.Slice(8, 16)), BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>Marks the socket so the redirect lets it through to the original app; needs CAP_NET_ADMIN. False when refused.</summary>
    public static bool TryMark(Socket socket, uint mark)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(value, mark);
        try
        {
            socket.SetRawSocketOption(SolSocket, SoMark, value);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
