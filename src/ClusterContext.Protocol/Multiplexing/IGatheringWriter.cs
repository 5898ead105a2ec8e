namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// A transport that takes several buffers in one write and sends them together (a socket in one sendmsg, a
/// port-forward in as few messages as they fit), so a frame's header does not travel alone.
/// </summary>
internal interface IGatheringWriter
{
    /// <summary>Writes <paramref name="buffers"/>, <paramref name="length"/> bytes in all, in order.</summary>
    ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int length);

    /// <summary>Ends a write the peer has not taken: the connection is closing and its grace is over.</summary>
    void Abandon();
}
