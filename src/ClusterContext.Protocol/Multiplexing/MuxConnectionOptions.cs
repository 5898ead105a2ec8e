using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>Limits and windows of one multiplexed connection.</summary>
internal sealed class MuxConnectionOptions
{
    /// <summary>Largest frame payload accepted from the peer. Default: <see cref="ProtocolLimits.MaxFramePayload"/> (1 MiB).</summary>
    public int MaxFramePayload { get; set; } = ProtocolLimits.MaxFramePayload;

    /// <summary>Bytes the peer may send on a stream before this side grants more. Default: 1 MiB.</summary>
    public int StreamWindow { get; set; } = ProtocolLimits.DefaultStreamWindow;

    /// <summary>Most streams open at once; further stream requests fail with <see cref="ErrorCode.TooManyStreams"/>. Default: 10,000.</summary>
    public int MaxStreams { get; set; } = 10_000;

    /// <summary>Most requests from the peer handled at once. Default: 4,096.</summary>
    public int MaxConcurrentRequests { get; set; } = 4096;

    /// <summary>Stream bytes queued for the transport before writers wait. Default: 2 MiB.</summary>
    public int OutgoingBufferBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Time allowed for the handshake. Default: 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (MaxFramePayload is < 1024 or > ProtocolLimits.MaxFramePayload)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFramePayload), MaxFramePayload, $"Must be between 1 KiB and {ProtocolLimits.MaxFramePayload} bytes.");
        }

        if (StreamWindow is < ProtocolLimits.MaxDataChunk or > ProtocolLimits.MaxStreamWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(StreamWindow), StreamWindow, $"Must be between {ProtocolLimits.MaxDataChunk} and {ProtocolLimits.MaxStreamWindow} bytes.");
        }
    }
}
