using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Multiplexing;

/// <summary>
/// The write loop's frames gathered for one write: headers and small payloads are copied into one buffer, larger
/// payloads are referenced where they are, and the whole batch goes to an <see cref="IGatheringWriter"/> in one call
/// (a socket's one gathering send), so a data frame costs no copy and no write of its own for its header.
/// </summary>
internal sealed class FrameBatch
{
    /// <summary>Payloads up to this size are copied next to their header rather than referenced.</summary>
    private const int CopiedPayloadLimit = 1024;

    /// <summary>Bytes a batch gathers before it is sent (the outgoing budget allows a few data chunks more).</summary>
    private const int MaxBytes = 1024 * 1024;

    /// <summary>Buffers of one send; well under the kernel's 1,024 (IOV_MAX).</summary>
    private const int MaxSegments = 64;

    private readonly byte[] _copied = new byte[16 * 1024];
    private readonly List<ArraySegment<byte>> _segments = new(MaxSegments);
    private readonly List<OutgoingFrame> _frames = [];
    private int _copiedEnd;
    private int _runStart;
    private int _bytes;

    /// <summary>true when no further frame may be added before the batch is sent.</summary>
    public bool IsFull =>
        _bytes >= MaxBytes
        || _segments.Count >= MaxSegments - 3
        || _copied.Length - _copiedEnd < 2 * FrameHeader.Size + CopiedPayloadLimit;

    /// <summary>Adds a frame (and its stream's End frame after it when it ends the stream); the batch releases it once sent.</summary>
    public void Add(in OutgoingFrame frame)
    {
        _frames.Add(frame);
        Header(new FrameHeader(frame.Length, frame.Type, 0, frame.Id));
        if (frame.Length <= CopiedPayloadLimit)
        {
            frame.PayloadSpan.CopyTo(_copied.AsSpan(_copiedEnd));
            _copiedEnd += frame.Length;
        }
        else
        {
            EndRun();
            _segments.Add(new ArraySegment<byte>(frame.Payload!, 0, frame.Length));
        }

        _bytes += FrameHeader.Size + frame.Length;
        if (frame.EndsStream)
        {
            Header(new FrameHeader(0, FrameType.End, 0, frame.Id));
            _bytes += FrameHeader.Size;
        }
    }

    /// <summary>Writes the batch to <paramref name="writer"/> in one call; returns the bytes written.</summary>
    public async ValueTask<int> SendAsync(IGatheringWriter writer)
    {
        EndRun();
        await writer.WriteAsync(_segments, _bytes).ConfigureAwait(false);
        return _bytes;
    }

    /// <summary>Empties the batch, returning its pooled payloads; returns how many of its frames counted against the outgoing budget.</summary>
    public int Clear()
    {
        var budgeted = 0;
        foreach (var frame in _frames)
        {
            frame.Release();
            budgeted += frame.Budgeted ? 1 : 0;
        }

        _frames.Clear();
        _segments.Clear();
        _copiedEnd = 0;
        _runStart = 0;
        _bytes = 0;
        return budgeted;
    }

    private void Header(in FrameHeader header)
    {
        header.Write(_copied.AsSpan(_copiedEnd, FrameHeader.Size));
        _copiedEnd += FrameHeader.Size;
    }

    // The copied bytes since the last referenced payload become one buffer of the send.
    private void EndRun()
    {
        if (_copiedEnd > _runStart)
        {
            _segments.Add(new ArraySegment<byte>(_copied, _runStart, _copiedEnd - _runStart));
            _runStart = _copiedEnd;
        }
    }
}
