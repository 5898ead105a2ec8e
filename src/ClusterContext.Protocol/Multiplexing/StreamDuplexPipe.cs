using System.IO.Pipelines;
using System.Net.Sockets;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// Adapts a transport <see cref="Stream"/> (a socket, a WebSocket port-forward) to a duplex pipe. When the stream
/// takes several buffers at once (a <see cref="NetworkStream"/>'s socket, an <see cref="IGatheringWriter"/>), or
/// <paramref name="gathering"/> is given for the transport under a wrapping stream, the connection's writes go there
/// directly, batched; <paramref name="sent"/> then hears of the bytes that bypassed the stream.
/// </summary>
internal sealed class StreamDuplexPipe(Stream stream, IGatheringWriter? gathering = null, Action<int>? sent = null) : IDuplexPipe
{
    /// <inheritdoc/>
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024, leaveOpen: true));

    /// <inheritdoc/>
    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 256 * 1024, leaveOpen: true));

    /// <summary>Where the connection's write loop writes its batches, or null to write through <see cref="Output"/>.</summary>
    public IGatheringWriter? Gathering { get; } = gathering ?? GatheringOf(stream);

    /// <summary>Told of the bytes each batch wrote.</summary>
    public Action<int>? Sent => sent;

    /// <summary>The gathering writer of a transport stream, or null when it writes one buffer at a time.</summary>
    public static IGatheringWriter? GatheringOf(Stream transport) => transport switch
    {
        IGatheringWriter writer => writer,
        NetworkStream network => new SocketGatheringWriter(network.Socket),
        _ => null,
    };
}
