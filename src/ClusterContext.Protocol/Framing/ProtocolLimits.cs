namespace ClusterContext.Protocol.Framing;

/// <summary>Hard bounds of the wire format, shared by both peers.</summary>
internal static class ProtocolLimits
{
    /// <summary>The protocol version this build speaks.</summary>
    public const ushort Version = 1;

    /// <summary>The oldest protocol version this build accepts from a peer.</summary>
    public const ushort MinimumVersion = 1;

    /// <summary>No frame payload may be larger than this, whatever a peer announces (1 MiB).</summary>
    public const int MaxFramePayload = 1 << 20;

    /// <summary>Largest payload of one data frame a sender produces (256 KiB).</summary>
    public const int MaxDataChunk = 256 * 1024;

    /// <summary>Bytes a stream may send before the receiver grants credit (1 MiB).</summary>
    public const int DefaultStreamWindow = 1024 * 1024;

    /// <summary>Largest credit a receiver may have outstanding on one stream (16 MiB).</summary>
    public const int MaxStreamWindow = 16 * 1024 * 1024;

    /// <summary>Bytes the handshake may take before the peer is judged not to speak the protocol.</summary>
    public const int MaxHandshakePayload = 16 * 1024;

    /// <summary>Longest string accepted in a message (64 KiB of UTF-8).</summary>
    public const int MaxStringBytes = 64 * 1024;

    /// <summary>The 8 bytes a client sends before its first frame, so that a stray client (or server) is recognised at once.</summary>
    public static ReadOnlySpan<byte> Preface => "CCTX\r\n\u001a\n"u8;
}
