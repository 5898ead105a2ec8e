using System.Buffers;

namespace ClusterContext.Protocol.Framing;

/// <summary>Writes frames to an <see cref="IBufferWriter{T}"/>.</summary>
internal static class FrameWriter
{
    /// <summary>Writes a frame whose payload is already encoded.</summary>
    public static void Write(IBufferWriter<byte> output, FrameType type, uint id, ReadOnlySpan<byte> payload, byte flags = 0)
    {
        var span = output.GetSpan(FrameHeader.Size + payload.Length);
        new FrameHeader(payload.Length, type, flags, id).Write(span);
        payload.CopyTo(span[FrameHeader.Size..]);
        output.Advance(FrameHeader.Size + payload.Length);
    }
}
