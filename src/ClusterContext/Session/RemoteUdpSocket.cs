using System.Net;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Session;

/// <summary>A UDP socket in the pod's network namespace.</summary>
internal sealed class RemoteUdpSocket(IPEndPoint localEndPoint, Stream stream) : IAsyncDisposable
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _receiveLock = new(1, 1);

    /// <summary>The socket's local address in the pod.</summary>
    public IPEndPoint LocalEndPoint { get; } = localEndPoint;

    /// <summary>Sends one datagram from the pod.</summary>
    public async Task SendToAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await DatagramCodec.WriteAsync(stream, remote, datagram, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Receives the next datagram that reached the socket in the pod.</summary>
    public async Task<(IPEndPoint Remote, byte[] Datagram)> ReceiveFromAsync(CancellationToken cancellationToken = default)
    {
        await _receiveLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await DatagramCodec.ReadAsync(stream, cancellationToken).ConfigureAwait(false)
                ?? throw new IOException("The UDP socket in the pod was closed.");
        }
        finally
        {
            _receiveLock.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await stream.DisposeAsync().ConfigureAwait(false);
        _sendLock.Dispose();
        _receiveLock.Dispose();
    }
}
