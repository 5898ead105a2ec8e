using System.Net;

namespace ClusterContext.Session;

/// <summary>A TCP connection opened from the pod; <see cref="Stream"/> carries its bytes.</summary>
internal sealed class RemoteTcpConnection(IPEndPoint localEndPoint, IPEndPoint remoteEndPoint, Stream stream) : IAsyncDisposable
{
    /// <summary>The connection's local end, in the pod.</summary>
    public IPEndPoint LocalEndPoint { get; } = localEndPoint;

    /// <summary>The address and port connected to.</summary>
    public IPEndPoint RemoteEndPoint { get; } = remoteEndPoint;

    /// <summary>The connection's bytes; disposing it closes the connection in the pod.</summary>
    public Stream Stream { get; } = stream;

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Stream.DisposeAsync();
}
