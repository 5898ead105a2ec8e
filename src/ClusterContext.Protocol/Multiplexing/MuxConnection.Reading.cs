using System.Buffers;
using System.Buffers.Binary;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Protocol.Multiplexing;

internal sealed partial class MuxConnection
{
    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var goodbye = false;
                try
                {
                    while (!goodbye && FrameReader.TryRead(ref buffer, _options.MaxFramePayload, out var header, out var payload))
                    {
                        goodbye = Dispatch(header, payload);
                    }

                    PublishReceived();

                    if (!goodbye && result.IsCompleted && !buffer.IsEmpty)
                    {
                        throw new ProtocolException(ErrorCode.ProtocolError, $"The connection ended in the middle of a frame ({buffer.Length} bytes left over).");
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (goodbye || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ProtocolException ex)
        {
            FailProtocol(ex);
            failure = ex;
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            failure = ex;
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }

        Close(failure as ProtocolException ?? (Exception)new SessionLostException(failure is null
            ? "The peer closed the connection."
            : $"Reading from the peer failed: {failure.Message}", failure));
    }

    /// <summary>Handles one frame; returns true when the peer said goodbye.</summary>
    private bool Dispatch(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (header.Flags != 0)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Frame {header.Type} has unknown flags 0x{header.Flags:x2}.");
        }

        switch (header.Type)
        {
            case FrameType.Data:
                OnData(header.Id, payload);
                break;
            case FrameType.Credit:
                OnCredit(header.Id, payload);
                break;
            case FrameType.Request:
                OnRequest(header.Id, payload);
                break;
            case FrameType.Response:
                OnResponse(header.Id, payload);
                break;
            case FrameType.Error:
                OnError(header.Id, payload);
                break;
            case FrameType.Cancel:
                ExpectEmpty(header, payload);
                if (_incoming.TryGetValue(header.Id, out var request))
                {
                    request.CancelFromPeer();
                }

                break;
            case FrameType.End:
                ExpectEmpty(header, payload);
                if (_streams.TryGetValue(header.Id, out var ended))
                {
                    ended.OnRemoteEnd();
                }

                break;
            case FrameType.Reset:
                var reset = DecodeError(payload);
                if (_streams.TryGetValue(header.Id, out var aborted))
                {
                    aborted.OnRemoteReset(new RemoteException(reset.Code, reset.Message));
                }

                break;
            case FrameType.Goodbye:
                return true;
            default:
                throw new ProtocolException(ErrorCode.ProtocolError, $"Unexpected {header.Type} frame after the handshake.");
        }

        return false;
    }

    private void OnData(uint id, in ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Empty data frame on stream {id}.");
        }

        // Bytes for a stream this side already closed are dropped: the peer may have sent them before it saw the close.
        if (_streams.TryGetValue(id, out var stream) && stream.OnData(payload))
        {
            _received.Add(stream);
        }
    }

    private void PublishReceived()
    {
        foreach (var stream in _received)
        {
            stream.PublishInbound();
        }

        _received.Clear();
    }

    private void OnCredit(uint id, in ReadOnlySequence<byte> payload)
    {
        if (payload.Length != 4)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Credit frame of {payload.Length} bytes on stream {id}; expected 4.");
        }

        Span<byte> bytes = stackalloc byte[4];
        payload.CopyTo(bytes);
        var increment = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (increment <= 0)
        {
            throw new ProtocolException(ErrorCode.FlowControlError, $"Credit of {increment} bytes on stream {id}.");
        }

        if (_streams.TryGetValue(id, out var stream))
        {
            stream.OnCredit(increment);
        }
    }

    private void OnResponse(uint id, in ReadOnlySequence<byte> payload)
    {
        var message = DecodeMessage(payload);
        if (_pending.TryRemove(id, out var pending))
        {
            pending.Complete(message);
        }
    }

    private void OnError(uint id, in ReadOnlySequence<byte> payload)
    {
        var error = DecodeError(payload);
        if (id == 0)
        {
            // The peer is closing the connection because of us; nothing more will come.
            Close(new SessionLostException($"The peer closed the connection: {error.Message} ({error.Code}).", new RemoteException(error.Code, error.Message)));
            return;
        }

        if (_pending.TryRemove(id, out var pending))
        {
            pending.Fail(new RemoteException(error.Code, error.Message));
        }
    }

    private static void ExpectEmpty(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (!payload.IsEmpty)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"{header.Type} frame on id {header.Id} must have no payload.");
        }
    }

    private static Message DecodeMessage(in ReadOnlySequence<byte> payload) =>
        payload.IsSingleSegment ? MessageCodec.Read(payload.FirstSpan) : MessageCodec.Read(payload.ToArray());

    private static ErrorPayload DecodeError(in ReadOnlySequence<byte> payload) =>
        payload.IsSingleSegment ? ErrorPayload.Decode(payload.FirstSpan) : ErrorPayload.Decode(payload.ToArray());
}
