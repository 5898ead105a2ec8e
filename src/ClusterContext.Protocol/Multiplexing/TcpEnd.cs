using System.Buffers;
using System.Net.Sockets;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// Ends of TCP streams that arrive with their last bytes and leave with them. A client that reuses a connection
/// unless it has seen the end (HttpClient's pool with an HTTP/1.0 server) must get the FIN no later than the bytes before it.
/// </summary>
internal static class TcpEnd
{
    private const int TcpCork = 3;

    /// <summary>True when the peer's FIN is already here, behind no unread bytes (not a reset: that is for the next receive to report).</summary>
    public static bool IsPending(Socket socket)
    {
        if (socket.Available != 0 || !socket.Poll(0, SelectMode.SelectRead))
        {
            return false;
        }

        // Readable with nothing to read is a FIN or an error; a peek tells which without taking anything.
        Span<byte> probe = stackalloc byte[1];
        return socket.Receive(probe, SocketFlags.Peek, out var error) == 0 && error == SocketError.Success;
    }

    /// <summary>Sends the last bytes and the FIN; corked, so that the FIN travels in the segment with them.</summary>
    public static async ValueTask SendLastAsync(Socket socket, ReadOnlySequence<byte> last, CancellationToken ct)
    {
        if (!last.IsEmpty)
        {
            socket.SetSocketOption(SocketOptionLevel.Tcp, (SocketOptionName)TcpCork, true);
            foreach (var segment in last)
            {
                await socket.SendAsync(segment, SocketFlags.None, ct).ConfigureAwait(false);
            }
        }

        // The shutdown pushes what the cork held, with the FIN set on its last segment.
        socket.Shutdown(SocketShutdown.Send);
    }
}
