using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>A request from the peer, handed to the request handler. Answer it exactly once.</summary>
internal sealed class IncomingRequest : IDisposable
{
    private readonly MuxConnection _connection;
    private readonly CancellationTokenSource _cancellation;
    private MuxStream? _stream;
    private int _responded;

    internal IncomingRequest(MuxConnection connection, uint id, Message message)
    {
        _connection = connection;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(connection.Closing);
        Id = id;
        Message = message;
    }

    /// <summary>The request id, which also names the stream the request may open.</summary>
    public uint Id { get; }

    /// <summary>The request.</summary>
    public Message Message { get; }

    /// <summary>Cancelled when the peer cancels the request or the connection closes.</summary>
    public CancellationToken CancellationToken => _cancellation.Token;

    internal bool Responded => Volatile.Read(ref _responded) != 0;

    /// <summary>Opens the stream named by this request's id; answer with <see cref="Respond"/> right after.</summary>
    public MuxStream CreateStream()
    {
        CancellationToken.ThrowIfCancellationRequested();
        return _stream ??= _connection.RegisterIncomingStream(Id);
    }

    /// <summary>Sends the response.</summary>
    public void Respond(Message response)
    {
        if (Interlocked.Exchange(ref _responded, 1) != 0)
        {
            throw new InvalidOperationException($"Request {Id} was already answered.");
        }

        _connection.SendMessage(FrameType.Response, Id, response);
    }

    internal void Fail(ErrorCode code, string message)
    {
        if (Interlocked.Exchange(ref _responded, 1) != 0)
        {
            // Already answered: the failure happened while serving the stream, so the stream carries it.
            _stream?.Reset(code, message);
            return;
        }

        _stream?.Abort(null);
        _connection.SendError(FrameType.Error, Id, code, message);
    }

    internal void CancelFromPeer()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _cancellation.Dispose();
}
