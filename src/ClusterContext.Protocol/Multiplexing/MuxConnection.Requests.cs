using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Protocol.Multiplexing;

internal sealed partial class MuxConnection
{
    /// <summary>
    /// Sends a request and returns the peer's response. A failure the peer reports is a <see cref="RemoteException"/>;
    /// a lost connection is a <see cref="SessionLostException"/>. Cancelling tells the peer to stop.
    /// </summary>
    public async Task<TResponse> RequestAsync<TResponse>(Message request, CancellationToken cancellationToken = default)
        where TResponse : Message
    {
        var id = NextId();
        var response = await SendRequestAsync(id, request, stream: null, cancellationToken).ConfigureAwait(false);
        return Expect<TResponse>(request, response);
    }

    /// <summary>
    /// Sends a request that opens a stream (a TCP connection, a file read, a UDP socket) and returns the response and the
    /// stream. The stream exists before the request leaves, so no byte the peer sends right after its response is lost.
    /// </summary>
    public async Task<(TResponse Response, MuxStream Stream)> OpenStreamAsync<TResponse>(Message request, CancellationToken cancellationToken = default)
        where TResponse : Message
    {
        var id = NextId();
        if (_streams.Count >= _options.MaxStreams)
        {
            throw new RemoteException(ErrorCode.TooManyStreams, $"{_streams.Count} streams are open on this connection; the limit is {_options.MaxStreams}.");
        }

        var stream = new MuxStream(this, id);
        _streams[id] = stream;
        try
        {
            var response = await SendRequestAsync(id, request, stream, cancellationToken).ConfigureAwait(false);
            return (Expect<TResponse>(request, response), stream);
        }
        catch
        {
            stream.Abort(null);
            throw;
        }
    }

    private async Task<Message> SendRequestAsync(uint id, Message request, MuxStream? stream, CancellationToken cancellationToken)
    {
        var pending = new PendingRequest();
        _pending[id] = pending;
        try
        {
            SendMessage(FrameType.Request, id, request);
            if (_closeReason is not null)
            {
                throw Lost();
            }

            using (cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (connection, requestId, waiting, opened) = ((MuxConnection, uint, PendingRequest, MuxStream?))state!;
                connection.SendControl(FrameType.Cancel, requestId);
                if (opened is not null)
                {
                    // The peer may already have opened its side; make sure it does not keep it.
                    connection.SendError(FrameType.Reset, requestId, ErrorCode.Cancelled, "The request was cancelled.");
                }

                waiting.Cancel(token);
            }, (this, id, pending, stream)))
            {
                return await pending.Answer.ConfigureAwait(false);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private static TResponse Expect<TResponse>(Message request, Message response)
        where TResponse : Message =>
        response as TResponse
        ?? throw new ProtocolException(ErrorCode.ProtocolError, $"The peer answered {request.Kind} with {response.Kind}; expected {typeof(TResponse).Name}.");

    private void OnRequest(uint id, in System.Buffers.ReadOnlySequence<byte> payload)
    {
        var message = DecodeMessage(payload);
        if (_handler is null)
        {
            SendError(FrameType.Error, id, ErrorCode.UnknownRequest, $"This side serves no requests ({message.Kind}).");
            return;
        }

        if (_incoming.Count >= _options.MaxConcurrentRequests)
        {
            SendError(FrameType.Error, id, ErrorCode.TooManyStreams, $"{_incoming.Count} requests are in progress; the limit is {_options.MaxConcurrentRequests}.");
            return;
        }

        var request = new IncomingRequest(this, id, message);
        if (!_incoming.TryAdd(id, request))
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Request id {id} is already in use.");
        }

        _ = Task.Run(() => RunHandlerAsync(request));
    }

    private async Task RunHandlerAsync(IncomingRequest request)
    {
        try
        {
            await _handler!(request).ConfigureAwait(false);
            if (!request.Responded)
            {
                request.Fail(ErrorCode.Internal, $"The handler for {request.Message.Kind} returned no response.");
            }
        }
        catch (OperationCanceledException) when (request.CancellationToken.IsCancellationRequested)
        {
            request.Fail(ErrorCode.Cancelled, "The request was cancelled.");
        }
        catch (RemoteException ex)
        {
            request.Fail(ex.Code, ex.Message);
        }
        catch (SessionLostException)
        {
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, request.Message.Kind, ex);
            request.Fail(ErrorCode.Internal, $"{request.Message.Kind} failed: {ex.Message}");
        }
        finally
        {
            _incoming.TryRemove(request.Id, out _);
            request.Dispose();
        }
    }

    internal MuxStream RegisterIncomingStream(uint id)
    {
        if (_streams.Count >= _options.MaxStreams)
        {
            throw new RemoteException(ErrorCode.TooManyStreams, $"{_streams.Count} streams are open on this connection; the limit is {_options.MaxStreams}.");
        }

        var stream = new MuxStream(this, id);
        if (!_streams.TryAdd(id, stream))
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Stream {id} is already open.");
        }

        if (_closeReason is not null)
        {
            stream.Abort(Lost());
        }

        return stream;
    }
}
