using System.IO.Pipelines;

namespace ClusterContext.Testing.Kube.Streaming.Spdy;

/// <summary>
/// One client-opened SPDY stream: its headers, what the client sends (ending at its FIN or a reset), and writes
/// as DATA frames; <see cref="CloseWriteAsync"/> half-closes (FIN), <see cref="ResetAsync"/> ends it (RST_STREAM CANCEL).
/// </summary>
internal sealed class SpdyStream : IDisposable
{
    private const uint Cancel = 5;
    private readonly SpdyConnection _connection;
    private readonly Pipe _inbound = new(new PipeOptions(pauseWriterThreshold: 0));
    private readonly CancellationTokenSource _reset = new();
    private int _writeClosed;

    public SpdyStream(SpdyConnection connection, uint id, IReadOnlyDictionary<string, string> headers)
    {
        _connection = connection;
        Id = id;
        Headers = headers;
    }

    public uint Id { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>What the client sent, to its FIN (or its reset, or the connection's end).</summary>
    public PipeReader Input => _inbound.Reader;

    /// <summary>Cancelled when the client resets the stream or the connection ends.</summary>
    public CancellationToken WasReset => _reset.Token;

    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";

    public Task WriteAsync(ReadOnlyMemory<byte> data) =>
        _writeClosed != 0 || _reset.IsCancellationRequested || data.IsEmpty ? Task.CompletedTask : _connection.SendDataAsync(Id, data, fin: false);

    public Task CloseWriteAsync() =>
        Interlocked.Exchange(ref _writeClosed, 1) != 0 || _reset.IsCancellationRequested ? Task.CompletedTask : _connection.SendDataAsync(Id, ReadOnlyMemory<byte>.Empty, fin: true);

    public async Task ResetAsync()
    {
        if (_reset.IsCancellationRequested)
        {
            return;
        }

        _connection.Forget(Id);
        OnReset();
        await _connection.SendResetAsync(Id, Cancel).ConfigureAwait(false);
    }

    public void Dispose() => _reset.Dispose();

    /// <summary>A write-only view whose writes are this stream's DATA frames.</summary>
    public Stream AsWriteStream() => new WriteStream(this);

    internal async Task ReceiveAsync(ReadOnlyMemory<byte> data, bool fin)
    {
        if (!data.IsEmpty)
        {
            await _inbound.Writer.WriteAsync(data).ConfigureAwait(false);
        }

        if (fin)
        {
            await _inbound.Writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    internal void OnReset()
    {
        _inbound.Writer.Complete();
        _reset.Cancel();
    }

    private sealed class WriteStream(SpdyStream stream) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => new(stream.WriteAsync(buffer));

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => stream.WriteAsync(buffer.AsMemory(offset, count));

        public override void Write(byte[] buffer, int offset, int count) => stream.WriteAsync(buffer.AsMemory(offset, count)).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
