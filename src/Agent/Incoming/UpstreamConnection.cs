using System.IO.Pipelines;
using System.Net.Sockets;

namespace ClusterContext.Agent.Incoming;

/// <summary>A connection to the original app (or to a session's stream): a stream to write to and a reader over what comes back.</summary>
internal sealed class UpstreamConnection(Stream stream, Socket? socket) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;

    public PipeReader Reader { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));

    public Socket? Socket { get; } = socket;

    /// <summary>True when an idle pooled connection has heard nothing since: no close, no stray bytes.</summary>
    public bool IsIdleAndOpen
    {
        get
        {
            try
            {
                return Socket is { Connected: true } s && !s.Poll(0, SelectMode.SelectRead);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Stream.DisposeAsync().ConfigureAwait(false);
        Socket?.Dispose();
    }
}
