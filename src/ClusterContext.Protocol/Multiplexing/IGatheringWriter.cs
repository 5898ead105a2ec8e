namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// A transport that takes several buffers in one write and sends them together (a port-forward packs them into as few
/// messages as they fit), so a frame's header does not travel alone.
/// </summary>
internal interface IGatheringWriter
{
    /// <summary>Writes <paramref name="buffers"/>, <paramref name="length"/> bytes in all, in order.</summary>
    ValueTask WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int length, CancellationToken cancellationToken);
}
