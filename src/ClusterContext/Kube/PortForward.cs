using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Kube;

/// <summary>
/// One TCP connection to a pod's port through the API server (<c>pods/portforward</c>, WebSocket
/// <c>v4.channel.k8s.io</c>): channel 0 carries data, channel 1 errors; the server starts each channel with the
/// port (2 bytes, little-endian), which is checked and dropped. An error the kubelet reports on channel 1 surfaces as
/// an <see cref="IOException"/> from the next read or write.
/// </summary>
internal sealed class PortForwardStream : Stream, IGatheringWriter
{
    /// <summary>The subprotocol spoken.</summary>
    public const string Protocol = "v4.channel.k8s.io";

    private const int MaxMessage = 64 * 1024;
    private readonly WebSocket _socket;
    private readonly int _port;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly byte[] _receive = new byte[MaxMessage + 1];
    private readonly bool[] _prefixSeen = new bool[2];
    private ReadOnlyMemory<byte> _pending;
    private string? _error;
    private IDisposable? _owned;
    private volatile bool _closed;
    private Task? _receiving;
    private bool _ended;

    private PortForwardStream(WebSocket socket, int port)
    {
        _socket = socket;
        _port = port;
    }

    /// <summary>Opens a connection to <paramref name="port"/> of pod <paramref name="pod"/> (see <see cref="DisposeWith"/> to hand it <paramref name="api"/>).</summary>
    public static async Task<PortForwardStream> OpenAsync(KubeApiClient api, string @namespace, string pod, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        var path = string.Create(CultureInfo.InvariantCulture, $"/api/v1/namespaces/{@namespace}/pods/{pod}/portforward?ports={port}");
        var socket = await api.ConnectWebSocketAsync(path, Protocol, cancellationToken).ConfigureAwait(false);
        return new PortForwardStream(socket, port);
    }

    /// <summary>
    /// Makes the stream dispose <paramref name="owned"/> (its API client) when it is disposed, once it has turned out to
    /// be the one that carries the session; attempts before it share the client and its cached credentials.
    /// </summary>
    public void DisposeWith(IDisposable owned)
    {
        ArgumentNullException.ThrowIfNull(owned);
        _owned = owned;
        if (_closed)
        {
            owned.Dispose(); // closed meanwhile: nothing else will
        }
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_pending.IsEmpty)
        {
            if (_error is not null)
            {
                throw new IOException($"Port-forward to port {_port}: {_error}");
            }

            if (_ended)
            {
                return 0;
            }

            // Cancelling an operation on a WebSocket aborts it, so the receive itself runs uncancelled and a cancelled
            // read leaves it pending for the next read; the connection stays usable (e.g. for a goodbye on close).
            _receiving ??= ReceiveAsync();
            await _receiving.WaitAsync(cancellationToken).ConfigureAwait(false);
            _receiving = null;
        }

        var count = Math.Min(buffer.Length, _pending.Length);
        _pending[..count].CopyTo(buffer);
        _pending = _pending[count..];
        return count;
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        SendAsync(null, buffer, buffer.Length, cancellationToken);

    /// <summary>Sends the buffers' bytes in as few WebSocket messages as they fit (a protocol frame's header goes with its payload).</summary>
    ValueTask IGatheringWriter.WriteAsync(IReadOnlyList<ArraySegment<byte>> buffers, int length) =>
        SendAsync(buffers, default, length, CancellationToken.None);

    /// <summary>Aborts the WebSocket, which ends a send the API server does not take: the session is closing.</summary>
    void IGatheringWriter.Abandon() => _socket.Abort();

    // Each message is the data channel's byte and up to MaxMessage bytes, taken from the one buffer or from the list.
    private async ValueTask SendAsync(IReadOnlyList<ArraySegment<byte>>? buffers, ReadOnlyMemory<byte> buffer, int length, CancellationToken cancellationToken)
    {
        if (_error is not null)
        {
            throw new IOException($"Port-forward to port {_port}: {_error}");
        }

        var frame = ArrayPool<byte>.Shared.Rent(Math.Min(length, MaxMessage) + 1);
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            frame[0] = 0;
            var next = 0;
            var filled = 0;
            while (true)
            {
                while (buffer.IsEmpty && buffers is not null && next < buffers.Count)
                {
                    buffer = buffers[next++];
                }

                if (buffer.IsEmpty)
                {
                    break;
                }

                var count = Math.Min(buffer.Length, MaxMessage - filled);
                buffer.Span[..count].CopyTo(frame.AsSpan(1 + filled));
                buffer = buffer[count..];
                filled += count;
                if (filled == MaxMessage)
                {
                    await SendMessageAsync(frame, filled).ConfigureAwait(false);
                    filled = 0;
                }
            }

            if (filled > 0)
            {
                await SendMessageAsync(frame, filled).ConfigureAwait(false);
            }
        }
        catch (WebSocketException ex)
        {
            throw new IOException($"Port-forward to port {_port} broke: {ex.Message}", ex);
        }
        finally
        {
            _sendGate.Release();
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    // Not cancelled midway: that would abort the WebSocket (see ReadAsync).
    private ValueTask SendMessageAsync(byte[] frame, int count) =>
        _socket.SendAsync(frame.AsMemory(0, count + 1), WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The peer is gone already; nothing more to tell it.
            }
        }

        _closed = true;
        _socket.Dispose();
        _sendGate.Dispose();
        _owned?.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _closed = true;
            _socket.Dispose();
            _owned?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task ReceiveAsync()
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        try
        {
            do
            {
                if (length == _receive.Length)
                {
                    throw new IOException($"Port-forward to port {_port}: a message longer than {MaxMessage} bytes arrived.");
                }

                result = await _socket.ReceiveAsync(_receive.AsMemory(length), CancellationToken.None).ConfigureAwait(false);
                length += result.Count;
            }
            while (!result.EndOfMessage);
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.ConnectionClosedPrematurely)
        {
            _ended = true;
            return;
        }

        if (result.MessageType == WebSocketMessageType.Close)
        {
            _ended = true;
            return;
        }

        if (length == 0)
        {
            return;
        }

        var channel = _receive[0];
        var payload = _receive.AsMemory(1, length - 1);
        if (channel > 1)
        {
            throw new IOException($"Port-forward to port {_port}: message on unknown channel {channel}.");
        }

        if (!_prefixSeen[channel])
        {
            // The first message of each channel names the port it belongs to.
            if (payload.Length < 2 || (payload.Span[0] | (payload.Span[1] << 8)) != _port)
            {
                throw new IOException($"Port-forward to port {_port}: the server started channel {channel} without the port prefix.");
            }

            _prefixSeen[channel] = true;
            payload = payload[2..];
        }

        if (channel == 1)
        {
            if (!payload.IsEmpty)
            {
                _error = (_error ?? "") + Encoding.UTF8.GetString(payload.Span);
            }

            return;
        }

        // No copy: the next receive into the buffer starts only once a read has consumed all of this.
        _pending = payload;
    }
}
