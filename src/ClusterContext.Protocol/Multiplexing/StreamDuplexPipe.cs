using System.IO.Pipelines;
using System.Net.Sockets;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// Adapts a transport <see cref="Stream"/> (a socket, a WebSocket port-forward) to a duplex pipe. When a socket is
/// under the stream (a <see cref="NetworkStream"/>'s, or the one given), or a <paramref name="gathering"/> writer
/// is given, the connection's writes go there directly, batched; <paramref name="sent"/> then hears of the bytes
/// that bypassed the stream.
/// </summary>
internal sealed class StreamDuplexPipe(Stream stream, Socket? socket = null, Action<int>? sent = null, IGatheringWriter? gathering = null) : IDuplexPipe
{
    /// <inheritdoc/>
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024, leaveOpen: true));

    /// <inheritdoc/>
    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 256 * 1024, leaveOpen: true));

    /// <summary>The socket the connection's write loop sends to directly, or null to write through <see cref="Output"/>.</summary>
    public Socket? Socket { get; } = socket ?? (stream as NetworkStream)?.Socket;

    /// <summary>The gathering writer the write loop writes batches to when there is no <see cref="Socket"/>.</summary>
    public IGatheringWriter? Gathering { get; } = gathering ?? stream as IGatheringWriter;

    /// <summary>Told of the bytes each direct send wrote.</summary>
    public Action<int>? Sent => sent;
}
