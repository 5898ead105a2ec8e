using System.Net.Sockets;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>A connected stream socket as a <see cref="IGatheringWriter"/>: all the buffers in one gathering send.</summary>
internal sealed class SocketGatheringWriter(Socket socket) : IGatheringWriter
{
    /// <inheritdoc/>
    public async ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int length)
    {
        var pending = buffers as IList<ArraySegment<byte>> ?? [.. buffers];
        var sent = await socket.SendAsync(pending, SocketFlags.None).ConfigureAwait(false);
        while (sent < length)
        {
            // Not seen on a stream socket, which sends every buffer before it completes; kept so no byte is lost if one did not.
            pending = Skip(pending, sent);
            length -= sent;
            sent = await socket.SendAsync(pending, SocketFlags.None).ConfigureAwait(false);
        }
    }

    /// <summary>Shuts the socket down, which fails a send waiting on a peer that does not read.</summary>
    public void Abandon()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Closed already: nothing is waiting on it.
        }
    }

    private static List<ArraySegment<byte>> Skip(IList<ArraySegment<byte>> buffers, int count)
    {
        var rest = new List<ArraySegment<byte>>(buffers.Count);
        foreach (var buffer in buffers)
        {
            var skipped = Math.Min(count, buffer.Count);
            count -= skipped;
            if (skipped < buffer.Count)
            {
                rest.Add(buffer.Slice(skipped));
            }
        }

        return rest;
    }
}
