using System.Buffers;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// A frame waiting for the write loop; <see cref="Rented"/> payloads go back to the pool once written. A data frame
/// that <see cref="EndsStream"/> is followed by the stream's End frame in the same transport write.
/// </summary>
internal readonly record struct OutgoingFrame(FrameType Type, uint Id, byte[]? Payload, int Length, bool Rented, bool Budgeted, bool EndsStream = false)
{
    public ReadOnlySpan<byte> PayloadSpan => Payload is null ? default : Payload.AsSpan(0, Length);

    public void Release()
    {
        if (Rented && Payload is not null)
        {
            ArrayPool<byte>.Shared.Return(Payload);
        }
    }
}
