using System.Buffers;
using System.IO.Pipelines;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// A byte stream multiplexed on a <see cref="MuxConnection"/>. The receiver grants the sender credit as the
/// application reads, so a stream whose reader stops holds at most one window of bytes and never stalls the
/// connection's other streams.
/// </summary>
internal sealed class MuxStream : Stream
{
    private static readonly PipeOptions InboundPipeOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false);

    private readonly MuxConnection _connection;
    private readonly Pipe _inbound = new(InboundPipeOptions);
    private readonly Lock _gate = new();
    private readonly int _creditThreshold;
    private int _receiveAllowance;
    private int _consumedSinceCredit;
    private long _sendCredit;
    private TaskCompletionSource? _creditWaiter;
    private Exception? _sendError;
    private bool _localEnded;
    private bool _remoteEnded;
    private bool _inboundClosed;
    private bool _pendingPublish;
    private int _disposed;

    internal MuxStream(MuxConnection connection, uint id)
    {
        _connection = connection;
        Id = id;
        _receiveAllowance = connection.Options.StreamWindow;
        _creditThreshold = Math.Max(ProtocolLimits.MaxDataChunk, connection.Options.StreamWindow / 4);
        _sendCredit = connection.PeerStreamWindow;
    }

    /// <summary>The stream's id (the id of the request that opened it).</summary>
    public uint Id { get; }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var result = await _inbound.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var available = result.Buffer;
        if (available.IsEmpty && result.IsCompleted)
        {
            _inbound.Reader.AdvanceTo(available.End);
            return 0;
        }

        var count = (int)Math.Min(available.Length, buffer.Length);
        available.Slice(0, count).CopyTo(buffer.Span);
        _inbound.Reader.AdvanceTo(available.GetPosition(count));
        Consumed(count);
        return count;
    }

    /// <summary>
    /// Waits for received bytes and lends them without copying; pass what was used to <see cref="AdvanceBuffer"/>.
    /// An empty completed result is the end of the stream.
    /// </summary>
    internal async ValueTask<ReadResult> ReadBufferAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return await _inbound.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the bytes lent by <see cref="ReadBufferAsync"/>, the first <paramref name="consumed"/> of them used.</summary>
    internal void AdvanceBuffer(in ReadOnlySequence<byte> buffer, long consumed)
    {
        _inbound.Reader.AdvanceTo(buffer.GetPosition(consumed));
        if (consumed > 0)
        {
            Consumed((int)consumed);
        }
    }

    /// <summary>
    /// Sends a pooled buffer the caller gives up (it is returned to the pool once written): no copy. With
    /// <paramref name="complete"/> these are the last bytes, and the end goes out in the same transport write when
    /// they fit one frame, so the peer sees the end together with them.
    /// </summary>
    internal async ValueTask WritePooledAsync(byte[] pooled, int length, CancellationToken cancellationToken, bool complete = false)
    {
        var sent = 0;
        try
        {
            if (length <= ProtocolLimits.MaxDataChunk)
            {
                sent = await TakeCreditAsync(length, cancellationToken).ConfigureAwait(false);
                if (sent == length)
                {
                    var handedOver = pooled;
                    pooled = null!;
                    var endsStream = complete && TryEndLocally();
                    await _connection.SendPooledDataAsync(Id, handedOver, length, cancellationToken, endsStream).ConfigureAwait(false);
                    if (endsStream)
                    {
                        RemoveIfDone();
                    }
                    else if (complete)
                    {
                        CompleteWrites();
                    }

                    return;
                }

                await _connection.SendDataAsync(Id, pooled.AsMemory(0, sent), cancellationToken).ConfigureAwait(false);
            }

            await WriteAsync(pooled.AsMemory(sent, length - sent), cancellationToken).ConfigureAwait(false);
            if (complete)
            {
                CompleteWrites();
            }
        }
        finally
        {
            if (pooled is not null)
            {
                ArrayPool<byte>.Shared.Return(pooled);
            }
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_localEnded)
        {
            throw new InvalidOperationException($"Stream {Id} was already completed for writing.");
        }

        while (!buffer.IsEmpty)
        {
            var count = await TakeCreditAsync(Math.Min(buffer.Length, ProtocolLimits.MaxDataChunk), cancellationToken).ConfigureAwait(false);
            await _connection.SendDataAsync(Id, buffer[..count], cancellationToken).ConfigureAwait(false);
            buffer = buffer[count..];
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Bytes are queued as they are written; there is nothing to flush.</summary>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Tells the peer that no more bytes will come from this side (half close); reading goes on.</summary>
    public void CompleteWrites()
    {
        if (TryEndLocally())
        {
            _connection.SendControl(FrameType.End, Id);
            RemoveIfDone();
        }
    }

    /// <summary>Marks this side ended, once; the caller then sends the End frame.</summary>
    private bool TryEndLocally()
    {
        lock (_gate)
        {
            if (_localEnded || _sendError is not null)
            {
                return false;
            }

            _localEnded = true;
            return true;
        }
    }

    /// <summary>Aborts the stream in both directions and tells the peer why.</summary>
    public void Reset(ErrorCode code, string message)
    {
        if (Fail(new RemoteException(code, message)))
        {
            _connection.SendError(FrameType.Reset, Id, code, message);
        }
    }

    /// <summary>Ends the stream: completes writing, and asks the peer to stop sending if it has not finished.</summary>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        CompleteWrites();
        bool inboundClosed;
        lock (_gate)
        {
            inboundClosed = _inboundClosed;
        }

        if (!inboundClosed)
        {
            Reset(ErrorCode.Cancelled, "The stream was closed by its reader.");
        }

        _inbound.Reader.Complete();
        _connection.RemoveStream(Id);
        base.Dispose(disposing);
    }

    /// <summary>Buffers received bytes; true when the stream needs a <see cref="PublishInbound"/> after this transport read.</summary>
    internal bool OnData(in ReadOnlySequence<byte> payload)
    {
        lock (_gate)
        {
            if (_remoteEnded)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, $"Data on stream {Id} after its end.");
            }

            if (_inboundClosed)
            {
                // Closed on this side; the peer sent these bytes before it learnt of it.
                return false;
            }

            if (payload.Length > Volatile.Read(ref _receiveAllowance))
            {
                throw new ProtocolException(ErrorCode.FlowControlError,
                    $"Stream {Id} received {payload.Length} bytes with only {_receiveAllowance} bytes of credit.");
            }

            Interlocked.Add(ref _receiveAllowance, -(int)payload.Length);
            foreach (var segment in payload)
            {
                _inbound.Writer.Write(segment.Span);
            }

            // Published by PublishInbound once the whole transport read is dispatched, so that an end (or more
            // bytes) in the same read reaches the reader together with these bytes, not one wake-up later.
            return !_pendingPublish && (_pendingPublish = true);
        }
    }

    /// <summary>Makes the bytes written by <see cref="OnData"/> readable (an end completes the pipe, which publishes them too).</summary>
    internal void PublishInbound()
    {
        lock (_gate)
        {
            _pendingPublish = false;
            if (_inboundClosed)
            {
                return;
            }

            // The pipe never pauses (the window bounds it), so the flush completes at once.
            var flush = _inbound.Writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                throw new InvalidOperationException("A stream's inbound buffer paused its writer.");
            }

            flush.GetAwaiter().GetResult();
        }
    }

    internal void OnCredit(int increment)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            _sendCredit += increment;
            if (_sendCredit > ProtocolLimits.MaxStreamWindow)
            {
                throw new ProtocolException(ErrorCode.FlowControlError, $"Stream {Id} was granted {_sendCredit} bytes of credit; the limit is {ProtocolLimits.MaxStreamWindow}.");
            }

            waiter = _creditWaiter;
            _creditWaiter = null;
        }

        waiter?.TrySetResult();
    }

    internal void OnRemoteEnd()
    {
        lock (_gate)
        {
            if (_remoteEnded)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, $"Stream {Id} ended twice.");
            }

            _remoteEnded = true;
            if (!_inboundClosed)
            {
                _inboundClosed = true;
                _inbound.Writer.Complete();
            }
        }

        RemoveIfDone();
    }

    internal void OnRemoteReset(RemoteException error)
    {
        // A reset after the peer's end only means "stop sending": the bytes already received stay readable.
        Fail(error);
        _connection.RemoveStream(Id);
    }

    /// <summary>Fails both directions locally (connection lost, open failed); the peer is not told.</summary>
    internal void Abort(Exception? error)
    {
        Fail(error ?? new ObjectDisposedException(nameof(MuxStream)));
        _connection.RemoveStream(Id);
    }

    private bool Fail(Exception error)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            if (_sendError is not null)
            {
                return false;
            }

            _sendError = error;
            waiter = _creditWaiter;
            _creditWaiter = null;
            if (!_inboundClosed)
            {
                _inboundClosed = true;
                _inbound.Writer.Complete(error);
            }
        }

        waiter?.TrySetException(error);
        return true;
    }

    private void Consumed(int count)
    {
        _consumedSinceCredit += count;
        if (_consumedSinceCredit < _creditThreshold)
        {
            return;
        }

        bool inboundClosed;
        lock (_gate)
        {
            inboundClosed = _inboundClosed;
        }

        if (!inboundClosed)
        {
            // Widen the allowance before the peer can learn of it, so its next bytes are always accepted.
            Interlocked.Add(ref _receiveAllowance, _consumedSinceCredit);
            _connection.SendCredit(Id, _consumedSinceCredit);
        }

        _consumedSinceCredit = 0;
    }

    private async ValueTask<int> TakeCreditAsync(int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_sendError is not null)
                {
                    throw _sendError as IOException ?? new IOException($"Stream {Id} is closed.", _sendError);
                }

                if (_sendCredit > 0)
                {
                    var granted = (int)Math.Min(wanted, _sendCredit);
                    _sendCredit -= granted;
                    return granted;
                }

                _creditWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _creditWaiter.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void RemoveIfDone()
    {
        bool done;
        lock (_gate)
        {
            done = _localEnded && _inboundClosed;
        }

        if (done)
        {
            _connection.RemoveStream(Id);
        }
    }
}
