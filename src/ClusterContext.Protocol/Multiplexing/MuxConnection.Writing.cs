using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Protocol.Multiplexing;

internal sealed partial class MuxConnection
{
    private const int DirectWriteThreshold = 8 * 1024;

    // One loop owns the transport's writer; everyone else queues frames. Queued stream bytes are bounded by
    // _outgoingBudget so that a slow transport pushes back on writers instead of growing the queue.
    private async Task WriteLoopAsync()
    {
        var output = _transport.Output;
        try
        {
            if (_transport is StreamDuplexPipe { Gathering: { } gathering } pipe)
            {
                await WriteBatchesAsync(gathering, pipe.Sent).ConfigureAwait(false);
            }
            else
            {
                await WriteToPipeAsync(output).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            Close(new SessionLostException($"Writing to the peer failed: {ex.Message}", ex));
        }
        finally
        {
            while (_outgoing.Reader.TryRead(out var frame))
            {
                frame.Release();
            }

            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    // A gathering transport (a socket, a port-forward) gets each batch of queued frames in one write, payloads straight from where they are.
    private async Task WriteBatchesAsync(IGatheringWriter writer, Action<int>? sent)
    {
        var reader = _outgoing.Reader;
        var batch = new FrameBatch();
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (!batch.IsFull && reader.TryRead(out var frame))
                {
                    batch.Add(frame);
                }

                // Not inside sent?.Invoke(...): with no listener that would skip the send itself.
                var bytes = await batch.SendAsync(writer).ConfigureAwait(false);
                sent?.Invoke(bytes);
                ReleaseBudget(batch.Clear());
            }
        }
        finally
        {
            ReleaseBudget(batch.Clear());
        }
    }

    private void ReleaseBudget(int frames)
    {
        if (frames > 0)
        {
            _outgoingBudget.Release(frames);
        }
    }

    private async Task WriteToPipeAsync(PipeWriter output)
    {
        var reader = _outgoing.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var ended = false;
            while (!ended && reader.TryRead(out var frame))
            {
                try
                {
                    // A frame the stream's end follows is copied, so that a direct write's flush cannot send it
                    // ahead of the end.
                    if (frame.Length < DirectWriteThreshold || frame.EndsStream)
                    {
                        FrameWriter.Write(output, frame.Type, frame.Id, frame.PayloadSpan);
                    }
                    else
                    {
                        // Large payloads go to the transport as they are (a stream-backed writer sends them
                        // without copying them into its buffer); only the header is buffered.
                        new FrameHeader(frame.Length, frame.Type, 0, frame.Id).Write(output.GetSpan(FrameHeader.Size));
                        output.Advance(FrameHeader.Size);
                        var result = await output.WriteAsync(frame.Payload.AsMemory(0, frame.Length)).ConfigureAwait(false);
                        ended = result.IsCompleted || result.IsCanceled;
                    }

                    if (frame.EndsStream && !ended)
                    {
                        FrameWriter.Write(output, FrameType.End, frame.Id, default);
                    }
                }
                finally
                {
                    frame.Release();
                    if (frame.Budgeted)
                    {
                        _outgoingBudget.Release();
                    }
                }
            }

            var flush = ended ? default : await output.FlushAsync().ConfigureAwait(false);
            if (ended || flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }
    }

    private bool TryEnqueue(in OutgoingFrame frame)
    {
        var queued = frame.Length < 0 ? frame with { Length = frame.Payload?.Length ?? 0 } : frame;
        if (_outgoing.Writer.TryWrite(queued))
        {
            return true;
        }

        queued.Release();
        return false;
    }

    private void Enqueue(in OutgoingFrame frame)
    {
        if (!TryEnqueue(frame))
        {
            throw Lost();
        }
    }

    internal void SendMessage(FrameType type, uint id, Message message) =>
        Enqueue(new OutgoingFrame(type, id, MessageCodec.Encode(message), -1, Rented: false, Budgeted: false));

    internal void SendError(FrameType type, uint id, ErrorCode code, string message) =>
        TryEnqueue(new OutgoingFrame(type, id, new ErrorPayload(code, message).Encode(), -1, Rented: false, Budgeted: false));

    internal void SendControl(FrameType type, uint id) =>
        TryEnqueue(new OutgoingFrame(type, id, null, 0, Rented: false, Budgeted: false));

    internal void SendCredit(uint id, int increment)
    {
        var payload = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        TryEnqueue(new OutgoingFrame(FrameType.Credit, id, payload, 4, Rented: false, Budgeted: false));
    }

    /// <summary>Queues one data frame of at most <see cref="ProtocolLimits.MaxDataChunk"/> bytes, waiting while the outgoing queue is full.</summary>
    internal async ValueTask SendDataAsync(uint id, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!_outgoingBudget.Wait(0, CancellationToken.None))
        {
            await WaitForBudgetAsync(cancellationToken).ConfigureAwait(false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.Span.CopyTo(buffer);
        if (!TryEnqueue(new OutgoingFrame(FrameType.Data, id, buffer, data.Length, Rented: true, Budgeted: true)))
        {
            _outgoingBudget.Release();
            throw Lost();
        }
    }

    /// <summary>
    /// Queues a data frame whose payload is a pooled array that the write loop returns once written; with
    /// <paramref name="endsStream"/>, the stream's End frame goes out right behind it.
    /// </summary>
    internal async ValueTask SendPooledDataAsync(uint id, byte[] pooled, int length, CancellationToken cancellationToken, bool endsStream = false)
    {
        try
        {
            if (!_outgoingBudget.Wait(0, CancellationToken.None))
            {
                await WaitForBudgetAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(pooled);
            throw;
        }

        if (!TryEnqueue(new OutgoingFrame(FrameType.Data, id, pooled, length, Rented: true, Budgeted: true, endsStream)))
        {
            _outgoingBudget.Release();
            throw Lost();
        }
    }

    private async ValueTask WaitForBudgetAsync(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            try
            {
                await _outgoingBudget.WaitAsync(_closing.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException)
            {
                throw Lost();
            }
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        try
        {
            await _outgoingBudget.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Lost();
        }
    }

    internal SessionLostException Lost() =>
        _closeReason as SessionLostException
        ?? new SessionLostException($"The session with the peer was lost: {_closeReason?.Message ?? "the connection is closed"}.", _closeReason);
}
