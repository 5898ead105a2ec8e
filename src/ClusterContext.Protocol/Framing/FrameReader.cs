using System.Buffers;

namespace ClusterContext.Protocol.Framing;

/// <summary>
/// Parses frames out of a byte sequence. The header is validated before the payload is awaited, so an
/// oversized frame is refused without buffering it.
/// </summary>
internal static class FrameReader
{
    /// <summary>
    /// Tries to read one whole frame from <paramref name="buffer"/>. On success the buffer is advanced past
    /// the frame and <paramref name="payload"/> is a slice of the original buffer (valid until the pipe is advanced).
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxPayload, out FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        header = default;
        if (buffer.Length < FrameHeader.Size)
        {
            return false;
        }

        Span<byte> headerBytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(headerBytes);
        header = FrameHeader.Read(headerBytes, maxPayload);
        if (buffer.Length < FrameHeader.Size + (long)header.PayloadLength)
        {
            return false;
        }

        payload = buffer.Slice(FrameHeader.Size, header.PayloadLength);
        buffer = buffer.Slice(payload.End);
        return true;
    }
}
