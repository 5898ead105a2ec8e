using System.Buffers;
using System.Buffers.Binary;
using ClusterContext.Agent.Incoming.Http2.Hpack;

namespace ClusterContext.Agent.Incoming.Http2;

internal sealed partial class Http2Connection
{
    private int _pendingStreamId;
    private bool _pendingEndStream;
    private List<byte>? _pendingBlock;

    /// <summary>Reads frames until the peer closes, breaks the protocol, or the connection is closed; returns why it ended.</summary>
    public async Task<string> RunAsync(CancellationToken ct)
    {
        var reason = "the peer closed the connection";
        try
        {
            if (_isServer)
            {
                await ReadPrefaceAsync(ct).ConfigureAwait(false);
            }

            while (true)
            {
                var result = await _reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (Http2Frames.TryRead(ref buffer, MaxFrameSize, out var header, out var payload))
                {
                    Handle(header, payload);
                }

                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Http2ConnectionException ex)
        {
            reason = $"protocol error: {ex.Message}";
            Http2Log.ProtocolError(_logger, Name, reason);
            await GoAwayAsync(ex.Code).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            reason = $"header compression error: {ex.Message}";
            Http2Log.ProtocolError(_logger, Name, reason);
            await GoAwayAsync(Http2ErrorCode.CompressionError).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException or Protocol.RemoteException or InvalidOperationException)
        {
            reason = ex.Message;
        }

        Http2Log.ConnectionEnded(_logger, Name, reason);
        End(reason);
        return reason;
    }

    private async Task ReadPrefaceAsync(CancellationToken ct)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= Http2Frames.ClientPreface.Length)
            {
                if (!buffer.Slice(0, Http2Frames.ClientPreface.Length).ToArray().AsSpan().SequenceEqual(Http2Frames.ClientPreface))
                {
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "not the HTTP/2 connection preface");
                }

                _reader.AdvanceTo(buffer.GetPosition(Http2Frames.ClientPreface.Length));
                return;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new IOException("the connection closed within the preface");
            }
        }
    }

    private void Handle(Http2FrameHeader header, byte[] payload)
    {
        if (_pendingBlock is not null && (header.Type != Http2FrameType.Continuation || header.StreamId != _pendingStreamId))
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a {header.Type} frame inside a header block");
        }

        switch (header.Type)
        {
            case Http2FrameType.Data:
                OnData(header, payload);
                break;
            case Http2FrameType.Headers:
                RequireStream(header);
                _pendingStreamId = header.StreamId;
                _pendingEndStream = header.Has(Http2Flags.EndStream);
                _pendingBlock = [.. Http2Frames.Unpad(header, payload).Span];
                if (header.Has(Http2Flags.EndHeaders))
                {
                    OnHeaderBlock();
                }

                break;
            case Http2FrameType.Continuation:
                if (_pendingBlock is null)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "CONTINUATION without HEADERS");
                }

                _pendingBlock.AddRange(payload);
                if (_pendingBlock.Count > 1024 * 1024)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a header block above 1 MiB");
                }

                if (header.Has(Http2Flags.EndHeaders))
                {
                    OnHeaderBlock();
                }

                break;
            case Http2FrameType.RstStream:
                RequireStream(header);
                OnReset(header.StreamId, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Require(payload, 4)));
                break;
            case Http2FrameType.Settings:
                OnSettings(header, payload);
                break;
            case Http2FrameType.Ping:
                if (!header.Has(Http2Flags.Ack))
                {
                    Post(Http2Frames.Build(Http2FrameType.Ping, Http2Flags.Ack, 0, Require(payload, 8)));
                }

                break;
            case Http2FrameType.GoAway:
                var code = (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Require(payload, 8)[4..]);
                if (code != Http2ErrorCode.NoError)
                {
                    Http2Log.GoAwayReceived(_logger, Name, code, payload.Length > 8 ? $": {System.Text.Encoding.Latin1.GetString(payload, 8, Math.Min(payload.Length - 8, 200))}" : "");
                }

                OnGoAway(BinaryPrimitives.ReadInt32BigEndian(Require(payload, 8)) & 0x7FFFFFFF);
                break;
            case Http2FrameType.WindowUpdate:
                OnWindowUpdate(header.StreamId, BinaryPrimitives.ReadInt32BigEndian(Require(payload, 4)) & 0x7FFFFFFF);
                break;
            case Http2FrameType.PushPromise:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "PUSH_PROMISE though push is disabled");
            default:
                break; // PRIORITY and unknown frame types are ignored (RFC 9113 sections 5.3.2 and 4.1)
        }
    }

    private static void RequireStream(Http2FrameHeader header)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} on stream 0");
        }
    }

    private static ReadOnlySpan<byte> Require(byte[] payload, int length) =>
        payload.Length >= length ? payload.AsSpan(0, length) : throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "a frame shorter than its type needs");

    private Http2Stream? Find(int id)
    {
        lock (_gate)
        {
            return _streams.GetValueOrDefault(id);
        }
    }

    private void OnData(Http2FrameHeader header, byte[] payload)
    {
        RequireStream(header);

        // The connection's window comes back at once: what a stream holds is bounded by its own window.
        _connectionUnrefunded += header.Length;
        if (_connectionUnrefunded >= ConnectionRefundThreshold)
        {
            Post(Http2Frames.WindowUpdate(0, (int)_connectionUnrefunded));
            _connectionUnrefunded = 0;
        }

        var data = Http2Frames.Unpad(header, payload);
        if (Find(header.StreamId) is not { RemoteEnded: false } stream)
        {
            return;
        }

        Consumed(stream, header.Length - data.Length);
        var end = header.Has(Http2Flags.EndStream);
        stream.RemoteEnded = end;
        stream.Sink.OnData(data, end);
    }

    private void OnHeaderBlock()
    {
        // Decoded even for a stream nobody wants: the decoder's table must see every block.
        var fields = _decoder.Decode(_pendingBlock!.ToArray());
        var id = _pendingStreamId;
        var end = _pendingEndStream;
        _pendingBlock = null;
        if (Find(id) is { } stream)
        {
            if (!stream.RemoteEnded)
            {
                stream.RemoteEnded = end;
                stream.Sink.OnHeaders(fields, end);
            }

            return;
        }

        if (!_isServer || id <= _lastPeerStreamId || (id & 1) == 0)
        {
            return; // a stream that is already closed
        }

        Volatile.Write(ref _lastPeerStreamId, id);
        int open;
        lock (_gate)
        {
            open = _streams.Count;
        }

        // Beyond what we advertised (with slack: a stream the peer saw end may not be forgotten here yet).
        if (open >= 2 * MaxConcurrentStreams)
        {
            Post(Http2Frames.RstStream(id, Http2ErrorCode.RefusedStream));
            return;
        }

        var opened = new Http2Stream(id, _peerInitialWindow, NoSink.Instance) { RemoteEnded = end };
        if (AcceptStream?.Invoke(opened, fields) is not { } sink)
        {
            Post(Http2Frames.RstStream(id, Http2ErrorCode.RefusedStream));
            return;
        }

        opened.Sink = sink;
        lock (_gate)
        {
            _streams[id] = opened;
        }

        sink.OnHeaders(fields, end);
    }

    private void OnReset(int id, Http2ErrorCode code)
    {
        if (Find(id) is not { } stream)
        {
            return;
        }

        stream.RemoteEnded = true;
        stream.LocalEnded = true;
        Forget(stream);
        stream.Sink.OnReset(code);
    }

    private void OnSettings(Http2FrameHeader header, byte[] payload)
    {
        if (header.Has(Http2Flags.Ack))
        {
            return;
        }

        if (payload.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS of a length not a multiple of 6");
        }

        for (var at = 0; at < payload.Length; at += 6)
        {
            var id = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(at));
            var value = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(at + 2));
            if (id == Http2Settings.InitialWindowSize)
            {
                if (value > int.MaxValue)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "an initial window above 2^31-1");
                }

                List<Http2Stream> open;
                int delta;
                lock (_gate)
                {
                    delta = (int)value - _peerInitialWindow;
                    _peerInitialWindow = (int)value;
                    open = [.. _streams.Values];
                }

                foreach (var stream in open)
                {
                    stream.SendWindow.Adjust(delta);
                }
            }
            else if (id == Http2Settings.MaxFrameSize)
            {
                if (value is < 16384 or > 16777215)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a maximum frame size of {value}");
                }

                Volatile.Write(ref _peerMaxFrameSize, (int)value);
            }
        }

        Post(Http2Frames.Build(Http2FrameType.Settings, Http2Flags.Ack, 0, []));
    }

    private void OnGoAway(int lastStreamId)
    {
        List<Http2Stream> refused;
        lock (_gate)
        {
            _goAwayLastStreamId = lastStreamId;

            // Streams we opened that the peer will never process; those it does process finish as usual.
            refused = [.. _streams.Values.Where(s => (s.Id & 1) == (_isServer ? 0 : 1) && s.Id > lastStreamId)];
            foreach (var stream in refused)
            {
                _streams.Remove(stream.Id);
            }
        }

        foreach (var stream in refused)
        {
            stream.Sink.OnLost("the peer refused the stream with GOAWAY");
        }
    }

    private void OnWindowUpdate(int id, int increment)
    {
        if (id == 0)
        {
            _connectionSendWindow.Adjust(increment);
        }
        else
        {
            Find(id)?.SendWindow.Adjust(increment);
        }
    }

    /// <summary>The sink of a stream while it is being accepted.</summary>
    private sealed class NoSink : IHttp2StreamSink
    {
        public static readonly NoSink Instance = new();

        public void OnOpened(Http2Stream stream)
        {
        }

        public void OnHeaders(List<HeaderField> fields, bool endStream)
        {
        }

        public void OnData(ReadOnlyMemory<byte> data, bool endStream)
        {
        }

        public void OnReset(Http2ErrorCode code)
        {
        }

        public void OnLost(string reason)
        {
        }
    }
}
