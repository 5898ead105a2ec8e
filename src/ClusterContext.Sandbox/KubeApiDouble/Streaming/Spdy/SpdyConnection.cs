using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace ClusterContext.Testing.Kube.Streaming.Spdy;

/// <summary>
/// The server side of a SPDY/3.1 connection as Kubernetes' streaming servers use it (Go's spdystream): the client
/// opens streams (SYN_STREAM, answered at once with an empty SYN_REPLY), data flows in DATA frames, FIN half-closes,
/// RST_STREAM ends a stream, PINGs are echoed, GOAWAY or the end of the transport ends the connection. Like
/// spdystream it does no flow control (WINDOW_UPDATE and SETTINGS are read and ignored).
/// </summary>
internal sealed class SpdyConnection : IAsyncDisposable
{
    private const ushort Version = 3;
    private const int MaxFrame = 16 * 1024 * 1024;
    private const int MaxData = 32 * 1024;

    private readonly Stream _transport;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly SpdyHeaderBlocks _inbound = new();
    private readonly SpdyHeaderBlocks _outbound = new();
    private readonly ConcurrentDictionary<uint, SpdyStream> _streams = new();
    private readonly Channel<SpdyStream> _opened = Channel.CreateUnbounded<SpdyStream>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closed = new();
    private uint _lastStream;

    public SpdyConnection(Stream transport)
    {
        _transport = transport;
    }

    /// <summary>Streams as the client opens them; complete when the connection ends.</summary>
    public ChannelReader<SpdyStream> Opened => _opened.Reader;

    /// <summary>Cancelled when the connection has ended.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Reads frames until the client says goodbye or the transport ends; then every stream ends.</summary>
    public async Task RunAsync()
    {
        var reader = PipeReader.Create(_transport, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var goAway = false;
                while (TryReadFrame(ref buffer, out var header, out var payload))
                {
                    goAway |= await HandleAsync(header, payload).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (goAway || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The client went away, or spoke something other than SPDY: the connection ends.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            End();
        }
    }

    public async Task SendReplyAsync(uint stream)
    {
        var block = _outbound.Write(new Dictionary<string, string>());
        var frame = new byte[12 + block.Length];
        WriteControlHeader(frame, 2, 0, 4 + block.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), stream);
        block.CopyTo(frame, 12);
        await WriteAsync(frame).ConfigureAwait(false);
    }

    public async Task SendDataAsync(uint stream, ReadOnlyMemory<byte> data, bool fin)
    {
        do
        {
            var chunk = data[..Math.Min(MaxData, data.Length)];
            data = data[chunk.Length..];
            var frame = new byte[8 + chunk.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame, stream & 0x7FFFFFFF);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), ((fin && data.IsEmpty ? 1u : 0u) << 24) | (uint)chunk.Length);
            chunk.CopyTo(frame.AsMemory(8));
            await WriteAsync(frame).ConfigureAwait(false);
        }
        while (!data.IsEmpty);
    }

    public Task SendResetAsync(uint stream, uint status)
    {
        var frame = new byte[16];
        WriteControlHeader(frame, 3, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), stream);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), status);
        return WriteAsync(frame);
    }

    /// <summary>Says goodbye (GOAWAY naming the last stream seen) and ends the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        var frame = new byte[16];
        WriteControlHeader(frame, 7, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), _lastStream);
        try
        {
            await WriteAsync(frame).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // Already gone.
        }

        End();
        _inbound.Dispose();
        _outbound.Dispose();
    }

    internal void Forget(uint stream) => _streams.TryRemove(stream, out _);

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[] header, out byte[] payload)
    {
        header = [];
        payload = [];
        if (buffer.Length < 8)
        {
            return false;
        }

        header = buffer.Slice(0, 8).ToArray();
        var length = (int)(BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4)) & 0xFFFFFF);
        if (length > MaxFrame)
        {
            throw new InvalidDataException($"a SPDY frame of {length} bytes");
        }

        if (buffer.Length < 8 + length)
        {
            return false;
        }

        payload = buffer.Slice(8, length).ToArray();
        buffer = buffer.Slice(8 + length);
        return true;
    }

    /// <summary>Handles one frame; true for GOAWAY.</summary>
    private async Task<bool> HandleAsync(byte[] header, byte[] payload)
    {
        var flags = header[4];
        if ((header[0] & 0x80) == 0)
        {
            var id = BinaryPrimitives.ReadUInt32BigEndian(header) & 0x7FFFFFFF;
            if (_streams.TryGetValue(id, out var target))
            {
                await target.ReceiveAsync(payload, (flags & 1) != 0).ConfigureAwait(false);
            }

            return false;
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(header) & 0x7FFF;
        if (version != Version)
        {
            throw new InvalidDataException($"SPDY version {version}");
        }

        switch (BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)))
        {
            case 1: // SYN_STREAM: stream id, associated id, priority and slot, header block
            {
                var id = BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF;
                var headers = _inbound.Read(payload.AsSpan(10));
                _lastStream = Math.Max(_lastStream, id);
                var stream = new SpdyStream(this, id, headers);
                _streams[id] = stream;
                await SendReplyAsync(id).ConfigureAwait(false);
                if ((flags & 1) != 0)
                {
                    await stream.ReceiveAsync(ReadOnlyMemory<byte>.Empty, fin: true).ConfigureAwait(false);
                }

                _opened.Writer.TryWrite(stream);
                break;
            }

            case 3: // RST_STREAM
                if (_streams.TryRemove(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF, out var reset))
                {
                    reset.OnReset();
                }

                break;
            case 6: // PING: echoed as it came
            {
                var frame = new byte[8 + payload.Length];
                header.CopyTo(frame, 0);
                payload.CopyTo(frame, 8);
                await WriteAsync(frame).ConfigureAwait(false);
                break;
            }

            case 7: // GOAWAY
                return true;
            case 8: // HEADERS: more headers for a stream, which these protocols never need; read to keep the zlib stream in step
                _inbound.Read(payload.AsSpan(4));
                break;
        }

        return false;
    }

    private static void WriteControlHeader(Span<byte> frame, ushort type, byte flags, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame, 0x8000 | Version);
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], type);
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], ((uint)flags << 24) | (uint)length);
    }

    private async Task WriteAsync(byte[] frame)
    {
        await _writing.WaitAsync(_closed.Token).ConfigureAwait(false);
        try
        {
            await _transport.WriteAsync(frame, _closed.Token).ConfigureAwait(false);
            await _transport.FlushAsync(_closed.Token).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    private void End()
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        _opened.Writer.TryComplete();
        foreach (var stream in _streams.Values)
        {
            stream.OnReset();
        }

        _streams.Clear();
        _closed.Cancel();
    }
}
