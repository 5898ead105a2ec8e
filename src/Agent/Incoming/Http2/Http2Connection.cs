using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using ClusterContext.Agent.Incoming.Http2.Hpack;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>
/// One HTTP/2 connection (RFC 9113) of the agent's proxy: towards the pod's client (the agent is the server) or
/// towards an upstream app (the agent is the client). It reads frames in one loop that never waits for another
/// connection, hands each stream's frames to that stream's sink, answers SETTINGS and PING, and gives back the
/// connection's receive window as soon as bytes arrive: each stream's own window is given back only once its bytes
/// were forwarded, so a slow stream holds back only itself.
/// </summary>
internal sealed partial class Http2Connection : IAsyncDisposable
{
    /// <summary>What we let the peer send on one stream before it hears from us (SETTINGS_INITIAL_WINDOW_SIZE).</summary>
    public const int StreamReceiveWindow = 256 * 1024;

    /// <summary>Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).</summary>
    public const int MaxConcurrentStreams = 100;

    private const int ConnectionReceiveWindow = 16 * 1024 * 1024;
    private const int ConnectionRefundThreshold = 1024 * 1024;
    private const int MaxFrameSize = 16384;
    private const int DefaultWindow = 65535;

    private readonly Stream _transport;
    private readonly PipeReader _reader;
    private readonly bool _isServer;
    private readonly Func<ValueTask>? _close;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly HpackDecoder _decoder = new();
    private readonly FlowWindow _connectionSendWindow = new(DefaultWindow);
    private readonly CancellationTokenSource _closed = new();

    private int _peerInitialWindow = DefaultWindow;
    private int _peerMaxFrameSize = MaxFrameSize;
    private int _nextStreamId = 1;
    private int _lastPeerStreamId;
    private int _goAwayLastStreamId = int.MaxValue;
    private long _connectionUnrefunded;
    private bool _ended;

    public Http2Connection(string name, Stream transport, PipeReader reader, bool isServer, ILogger logger, Func<ValueTask>? close = null)
    {
        Name = name;
        _transport = transport;
        _reader = reader;
        _isServer = isServer;
        _logger = logger;
        _close = close;
    }

    /// <summary>For logs: who is on the other side.</summary>
    public string Name { get; }

    /// <summary>Server role: a sink for each stream the peer opens; null refuses it.</summary>
    public Func<Http2Stream, List<HeaderField>, IHttp2StreamSink?>? AcceptStream { get; init; }

    /// <summary>False once the peer sent GOAWAY or the connection ended: new streams go on a new connection.</summary>
    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return !_ended && _goAwayLastStreamId == int.MaxValue;
            }
        }
    }

    /// <summary>The highest stream id the peer opened (for our GOAWAY).</summary>
    public int LastPeerStreamId => Volatile.Read(ref _lastPeerStreamId);

    /// <summary>Cancelled when the connection ends.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Our connection preface (client role: the magic first) and settings; the peer's comes in on the read loop.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var settings = _isServer
            ? Http2Frames.Settings((Http2Settings.MaxConcurrentStreams, MaxConcurrentStreams), (Http2Settings.InitialWindowSize, StreamReceiveWindow))
            : Http2Frames.Settings((Http2Settings.EnablePush, 0), (Http2Settings.InitialWindowSize, StreamReceiveWindow));
        byte[] start = [.. _isServer ? [] : Http2Frames.ClientPreface, .. settings, .. Http2Frames.WindowUpdate(0, ConnectionReceiveWindow - DefaultWindow)];
        await WriteAsync(start, ct).ConfigureAwait(false);
    }

    /// <summary>Opens a stream with its request headers; the id is taken and the headers sent under one lock, so ids rise in the order sent.</summary>
    public async Task<Http2Stream> OpenStreamAsync(IReadOnlyList<HeaderField> fields, bool endStream, IHttp2StreamSink sink, CancellationToken ct)
    {
        var block = HpackEncoder.Encode(fields);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Http2Stream stream;
            lock (_gate)
            {
                if (_ended || _goAwayLastStreamId != int.MaxValue)
                {
                    throw new IOException($"the connection to {Name} is closing");
                }

                stream = new Http2Stream(_nextStreamId, _peerInitialWindow, sink) { LocalEnded = endStream };
                _nextStreamId += 2;
                _streams[stream.Id] = stream;
            }

            sink.OnOpened(stream);

            await _transport.WriteAsync(Http2Frames.BuildHeaders(stream.Id, block, endStream, _peerMaxFrameSize), CancellationToken.None).ConfigureAwait(false);
            return stream;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task WriteHeadersAsync(Http2Stream stream, IReadOnlyList<HeaderField> fields, bool endStream, CancellationToken ct)
    {
        stream.LocalEnded |= endStream;
        return WriteAsync(Http2Frames.BuildHeaders(stream.Id, HpackEncoder.Encode(fields), endStream, _peerMaxFrameSize), ct);
    }

    /// <summary>Sends <paramref name="data"/> as DATA frames as the stream's and the connection's windows allow.</summary>
    public async Task WriteDataAsync(Http2Stream stream, ReadOnlyMemory<byte> data, bool endStream, CancellationToken ct)
    {
        if (data.IsEmpty)
        {
            stream.LocalEnded |= endStream;
            await WriteAsync(Http2Frames.Build(Http2FrameType.Data, endStream ? Http2Flags.EndStream : (byte)0, stream.Id, []), ct).ConfigureAwait(false);
            return;
        }

        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, _closed.Token);
        var offset = 0;
        while (offset < data.Length)
        {
            var wanted = Math.Min(data.Length - offset, Volatile.Read(ref _peerMaxFrameSize));
            var fromStream = await stream.SendWindow.TakeAsync(wanted, both.Token).ConfigureAwait(false);
            var granted = await _connectionSendWindow.TakeAsync(fromStream, both.Token).ConfigureAwait(false);
            if (granted < fromStream)
            {
                stream.SendWindow.Adjust(fromStream - granted);
            }

            var last = endStream && offset + granted == data.Length;
            stream.LocalEnded |= last;
            await WriteAsync(Http2Frames.Build(Http2FrameType.Data, last ? Http2Flags.EndStream : (byte)0, stream.Id, data.Span.Slice(offset, granted)), ct).ConfigureAwait(false);
            offset += granted;
        }
    }

    public Task ResetAsync(Http2Stream stream, Http2ErrorCode code)
    {
        if (stream.LocalEnded && stream.RemoteEnded)
        {
            return Task.CompletedTask; // closed both ways: nothing to reset
        }

        stream.LocalEnded = true;
        stream.RemoteEnded = true;
        Forget(stream);
        return WriteAsync(Http2Frames.RstStream(stream.Id, code), CancellationToken.None);
    }

    /// <summary>The sink forwarded <paramref name="count"/> bytes of the stream's data: the peer may send that much more.</summary>
    public void Consumed(Http2Stream stream, int count)
    {
        if (count > 0 && !stream.RemoteEnded)
        {
            Post(Http2Frames.WindowUpdate(stream.Id, count));
        }
    }

    /// <summary>The stream is done both ways: its frames from now on are ignored.</summary>
    public void Forget(Http2Stream stream)
    {
        lock (_gate)
        {
            _streams.Remove(stream.Id);
        }
    }

    public async Task GoAwayAsync(Http2ErrorCode code)
    {
        try
        {
            await WriteAsync(Http2Frames.GoAway(_isServer ? LastPeerStreamId : 0, code), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException or Protocol.RemoteException)
        {
            // The peer is already gone: nothing to tell it.
        }
    }

    /// <summary>Ends the connection: every open stream is lost, the transport closed.</summary>
    public async ValueTask CloseAsync()
    {
        End("the connection closed");
        if (_close is not null)
        {
            await _close().ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => CloseAsync();

    private async Task WriteAsync(byte[] frames, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Once begun, a write is never cancelled halfway: that would cut a frame.
            await _transport.WriteAsync(frames, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>A control frame from the read loop, sent without making the loop wait on the peer reading.</summary>
    private void Post(byte[] frame) => _ = PostAsync(frame);

    private async Task PostAsync(byte[] frame)
    {
        try
        {
            await WriteAsync(frame, _closed.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException or Protocol.RemoteException or InvalidOperationException)
        {
            End(ex.Message);
        }
    }

    private void End(string reason)
    {
        List<Http2Stream> lost;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            lost = [.. _streams.Values];
            _streams.Clear();
        }

        try
        {
            _closed.Cancel();
        }
        catch (AggregateException)
        {
        }

        foreach (var stream in lost)
        {
            stream.Sink.OnLost(reason);
        }
    }
}
