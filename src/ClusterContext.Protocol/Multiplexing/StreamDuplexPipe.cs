using System.IO.Pipelines;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>Adapts a transport <see cref="Stream"/> (a socket, a WebSocket port-forward) to a duplex pipe.</summary>
internal sealed class StreamDuplexPipe(Stream stream) : IDuplexPipe
{
    /// <inheritdoc/>
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024, leaveOpen: true));

    /// <inheritdoc/>
    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 256 * 1024, leaveOpen: true));
}
