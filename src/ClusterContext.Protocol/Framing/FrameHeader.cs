using System.Buffers.Binary;

namespace ClusterContext.Protocol.Framing;

/// <summary>
/// The fixed 10-byte header in front of every frame: payload length (u32), type (u8), flags (u8) and
/// the request or stream id (u32), all big-endian.
/// </summary>
internal readonly record struct FrameHeader(int PayloadLength, FrameType Type, byte Flags, uint Id)
{
    /// <summary>Size of the encoded header in bytes.</summary>
    public const int Size = 10;

    /// <summary>Writes the header into <paramref name="destination"/>, which must hold <see cref="Size"/> bytes.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, PayloadLength);
        destination[4] = (byte)Type;
        destination[5] = Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], Id);
    }

    /// <summary>Reads a header and checks it against <paramref name="maxPayload"/>; a bad header is a protocol error.</summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source, int maxPayload)
    {
        var length = BinaryPrimitives.ReadInt32BigEndian(source);
        var type = (FrameType)source[4];
        if (length < 0 || length > maxPayload)
        {
            throw new ProtocolException(ErrorCode.FrameTooLarge,
                $"Frame of {(uint)length} bytes exceeds the limit of {maxPayload} bytes.");
        }

        if (type is < FrameType.Hello or > FrameType.Goodbye)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Unknown frame type 0x{(byte)type:x2}.");
        }

        return new FrameHeader(length, type, source[5], BinaryPrimitives.ReadUInt32BigEndian(source[6..]));
    }
}
