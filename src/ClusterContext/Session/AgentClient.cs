using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Session;

/// <summary>
/// A session with a ClusterContext agent: typed operations carried out in the target pod's context over one
/// multiplexed connection. Failures the agent reports are <see cref="RemoteException"/>s; a lost session is a
/// <see cref="SessionLostException"/>.
/// </summary>
internal sealed class AgentClient : IAsyncDisposable
{
    private readonly MuxConnection _connection;
    private readonly IAsyncDisposable? _transport;

    private AgentClient(MuxConnection connection, IAsyncDisposable? transport, IncomingDispatch dispatch)
    {
        _connection = connection;
        _transport = transport;
        dispatch.Client = this;
    }

    /// <summary>
    /// Serves the requests the agent sends this session (incoming connections of subscribed ports); until one is set,
    /// they are refused as unknown and the agent serves them from the pod's own app.
    /// </summary>
    internal Func<IncomingRequest, Task>? IncomingHandler { get; set; }

    /// <summary>The agent's side of the handshake (its version, session id and target process).</summary>
    public WelcomeMessage Agent => _connection.Welcome!;

    /// <summary>Completes when the session ends.</summary>
    public Task Completion => _connection.Completion;

    /// <summary>Connects to an agent listening at <paramref name="address"/> (for example one reached through a port-forward).</summary>
    public static async Task<AgentClient> ConnectAsync(
        IPEndPoint address, string token, string clientName = "ClusterContext", MuxConnectionOptions? options = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new SessionLostException($"Cannot reach the agent at {address}: {ex.Message}. Check that the agent is running and that the address and port are right.", ex);
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            return await ConnectAsync(stream, token, clientName, options, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens a session over an already connected transport; the client owns and closes it.</summary>
    public static async Task<AgentClient> ConnectAsync(
        Stream transport, string token, string clientName = "ClusterContext", MuxConnectionOptions? options = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ClusterContext.Session");
        var dispatch = new IncomingDispatch();
        var connection = await MuxConnection.ConnectAsync(new StreamDuplexPipe(new Diagnostics.CountingStream(transport), StreamDuplexPipe.GatheringOf(transport), Diagnostics.ClusterContextTelemetry.Sent), token, clientName, options, logger, dispatch.HandleAsync, cancellationToken).ConfigureAwait(false);
        return new AgentClient(connection, transport, dispatch);
    }

    /// <summary>Opens a session over a duplex pipe (in-memory tests, custom transports); the caller owns the pipe.</summary>
    public static async Task<AgentClient> ConnectAsync(
        IDuplexPipe transport, string token, string clientName = "ClusterContext", MuxConnectionOptions? options = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ClusterContext.Session");
        var dispatch = new IncomingDispatch();
        var connection = await MuxConnection.ConnectAsync(transport, token, clientName, options, logger, dispatch.HandleAsync, cancellationToken).ConfigureAwait(false);
        return new AgentClient(connection, null, dispatch);
    }

    /// <summary>Measures one round trip to the agent.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await _connection.RequestAsync<PingResponse>(new PingRequest([]), cancellationToken).ConfigureAwait(false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>The target process's environment variables, in their original order.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> GetEnvironmentAsync(CancellationToken cancellationToken = default) =>
        (await _connection.RequestAsync<EnvironmentResponse>(new GetEnvironmentRequest(), cancellationToken).ConfigureAwait(false)).Variables;

    /// <summary>The target container's mounts (ConfigMaps, Secrets, the service-account token, ...).</summary>
    public async Task<IReadOnlyList<MountEntry>> GetMountsAsync(CancellationToken cancellationToken = default) =>
        (await _connection.RequestAsync<MountsResponse>(new GetMountsRequest(), cancellationToken).ConfigureAwait(false)).Mounts;

    /// <summary>Metadata of a file in the container.</summary>
    public async Task<FileStat> StatAsync(string path, bool followSymlinks = true, CancellationToken cancellationToken = default) =>
        (await _connection.RequestAsync<StatResponse>(new StatRequest(path, followSymlinks), cancellationToken).ConfigureAwait(false)).Stat;

    /// <summary>All entries of a directory in the container.</summary>
    public async Task<IReadOnlyList<DirectoryEntry>> ReadDirectoryAsync(string path, CancellationToken cancellationToken = default)
    {
        var entries = new List<DirectoryEntry>();
        while (true)
        {
            var page = await _connection.RequestAsync<ReadDirectoryResponse>(new ReadDirectoryRequest(path, entries.Count), cancellationToken).ConfigureAwait(false);
            entries.AddRange(page.Entries);
            if (!page.HasMore || page.Entries.Count == 0)
            {
                return entries;
            }
        }
    }

    /// <summary>The target of a symbolic link in the container, as stored.</summary>
    public async Task<string> ReadLinkAsync(string path, CancellationToken cancellationToken = default) =>
        (await _connection.RequestAsync<ReadLinkResponse>(new ReadLinkRequest(path), cancellationToken).ConfigureAwait(false)).Target;

    /// <summary>Opens a file in the container for reading: <paramref name="length"/> bytes from <paramref name="offset"/>, or to the end when negative.</summary>
    public async Task<RemoteFile> OpenReadAsync(string path, long offset = 0, long length = -1, CancellationToken cancellationToken = default)
    {
        var (response, stream) = await _connection.OpenStreamAsync<OpenReadResponse>(new OpenReadRequest(path, offset, length), cancellationToken).ConfigureAwait(false);
        stream.CompleteWrites();
        return new RemoteFile(response.Stat, stream);
    }

    /// <summary>Reads a whole file from the container.</summary>
    public async Task<byte[]> ReadAllBytesAsync(string path, CancellationToken cancellationToken = default)
    {
        var file = await OpenReadAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (file.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(file.Stat.Size is > 0 and < int.MaxValue ? (int)file.Stat.Size : 0);
            await file.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }

    /// <summary>Replaces a file's content in the container, creating it when missing; the content must fit in one frame (about 1 MiB).</summary>
    public async Task<FileStat> WriteAllBytesAsync(string path, byte[] content, CancellationToken cancellationToken = default)
    {
        if (content.Length > MaxWriteBytes)
        {
            throw new IOException($"{path}: {content.Length} bytes is more than the {MaxWriteBytes} bytes a write to the pod can carry.");
        }

        return (await _connection.RequestAsync<WriteFileResponse>(new WriteFileRequest(path, content), cancellationToken).ConfigureAwait(false)).Stat;
    }

    /// <summary>Largest file content <see cref="WriteAllBytesAsync"/> carries.</summary>
    public const int MaxWriteBytes = ClusterContext.Protocol.Framing.ProtocolLimits.MaxFramePayload - (64 * 1024);

    /// <summary>Opens a change-notification stream for directories in the container.</summary>
    public async Task<RemoteWatch> WatchAsync(CancellationToken cancellationToken = default)
    {
        var (_, stream) = await _connection.OpenStreamAsync<WatchResponse>(new WatchRequest(), cancellationToken).ConfigureAwait(false);
        return new RemoteWatch(stream);
    }

    /// <summary>Resolves a name the way the pod would (its hosts file, search domains and name servers).</summary>
    public Task<ResolveResponse> ResolveAsync(string name, AddressFamilyFilter family = AddressFamilyFilter.Any, CancellationToken cancellationToken = default) =>
        _connection.RequestAsync<ResolveResponse>(new ResolveRequest(name, family), cancellationToken);

    /// <summary>The pod's resolver configuration (name servers, search domains, ndots).</summary>
    public Task<ResolverConfigResponse> GetResolverConfigAsync(CancellationToken cancellationToken = default) =>
        _connection.RequestAsync<ResolverConfigResponse>(new GetResolverConfigRequest(), cancellationToken);

    /// <summary>Opens a TCP connection from the pod to <paramref name="host"/> (an address or a name the pod resolves).</summary>
    public async Task<RemoteTcpConnection> ConnectTcpAsync(string host, int port, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var request = new TcpConnectRequest(host, (ushort)port, (uint)(timeout ?? TimeSpan.Zero).TotalMilliseconds);
        var (response, stream) = await _connection.OpenStreamAsync<TcpConnectResponse>(request, cancellationToken).ConfigureAwait(false);
        return new RemoteTcpConnection(response.LocalEndPoint, response.RemoteEndPoint, stream);
    }

    /// <summary>Opens a UDP socket in the pod's network namespace.</summary>
    public async Task<RemoteUdpSocket> OpenUdpAsync(bool ipv6 = false, CancellationToken cancellationToken = default)
    {
        var (response, stream) = await _connection.OpenStreamAsync<UdpOpenResponse>(new UdpOpenRequest(ipv6), cancellationToken).ConfigureAwait(false);
        return new RemoteUdpSocket(response.LocalEndPoint, stream);
    }

    /// <summary>
    /// Asks for a pod port's incoming traffic (all of it, or the HTTP requests <paramref name="filter"/> matches); the
    /// agent then sends an incoming connection request for each connection or request it hands over.
    /// </summary>
    public Task<SubscribeResponse> SubscribeAsync(int port, IncomingMode mode, HttpFilter? filter, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        return _connection.RequestAsync<SubscribeResponse>(new SubscribeRequest((ushort)port, mode, filter), cancellationToken);
    }

    /// <summary>Ends this session's subscription to a pod port.</summary>
    public Task UnsubscribeAsync(int port, CancellationToken cancellationToken = default) =>
        _connection.RequestAsync<UnsubscribeResponse>(new UnsubscribeRequest((ushort)port), cancellationToken);

    /// <summary>Ends the session and closes the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The connection's handler exists before the client does: it forwards to the client's handler once both are there.</summary>
    private sealed class IncomingDispatch
    {
        public AgentClient? Client { get; set; }

        public Task HandleAsync(IncomingRequest request) =>
            Client?.IncomingHandler is { } handler
                ? handler(request)
                : throw new RemoteException(ErrorCode.UnknownRequest, $"This session serves no {request.Message.Kind} requests.");
    }
}
