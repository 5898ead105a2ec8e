using System.Net.WebSockets;

namespace ClusterContext.Testing.Kube.Streaming;

/// <summary>
/// The sending side of a <c>channel.k8s.io</c> WebSocket: every binary message is one channel byte and its data.
/// Sends are serialised, as a WebSocket allows one at a time.
/// </summary>
internal sealed class WebSocketChannels(WebSocket socket) : IDisposable
{
    /// <summary>v5's close signal: a message on this channel names the channel the sender closes.</summary>
    public const byte CloseSignal = 255;

    private readonly SemaphoreSlim _sending = new(1, 1);

    public WebSocket Socket => socket;

    public async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message.AsMemory(1));
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Sends the close frame after every message sent; false when the client went away first.</summary>
    public async Task<bool> CloseOutputAsync()
    {
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _sending.Release();
        }
    }

    public void Dispose() => _sending.Dispose();

    /// <summary>A write-only stream whose every write is one message on <paramref name="channel"/>.</summary>
    public Stream Writer(byte channel) => new ChannelStream(this, channel);

    private sealed class ChannelStream(WebSocketChannels channels, byte channel) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            buffer.IsEmpty ? ValueTask.CompletedTask : new(channels.SendAsync(channel, buffer, cancellationToken));

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
