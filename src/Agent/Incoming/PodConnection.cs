using System.Buffers;
using System.Collections.Immutable;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// One connection a pod client made to a subscribed port, as the listener accepted it. Decided once per connection:
/// stolen whole, mirrored whole, or (when a session filters) read as HTTP and routed request by request.
/// </summary>
internal sealed partial class PodConnection : IAsyncDisposable
{
    /// <summary>How long a closing connection waits for the client's own close, reading what it still sends.</summary>
    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(1);

    private readonly Socket _client;
    private readonly NetworkStream _toClient;
    private readonly PipeReader _fromClient;
    private readonly PortEntry _port;
    private readonly IncomingService _service;
    private readonly ILogger _logger;
    private readonly IPEndPoint _clientEndPoint;
    private readonly IPEndPoint _destination;

    public PodConnection(Socket client, PortEntry port, IncomingService service, ILogger logger)
    {
        _client = client;
        _client.NoDelay = true;
        _toClient = new NetworkStream(client, ownsSocket: false);
        _fromClient = PipeReader.Create(_toClient, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _port = port;
        _service = service;
        _logger = logger;
        _clientEndPoint = Unmap((IPEndPoint)client.RemoteEndPoint!);
        _destination = Destination(client, port);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            var subscriptions = _port.Subscriptions.Routing;
            if (PortSubscriptions.WholePortSteal(subscriptions) is { } thief)
            {
                await StealWholeAsync(thief, ct).ConfigureAwait(false);
            }
            // Filters held back after a takeover still make the connection HTTP, so its later requests find them.
            else if (PortSubscriptions.NeedsHttp(_port.Subscriptions.Current))
            {
                await RouteHttpAsync(ct).ConfigureAwait(false);
            }
            else
            {
                await MirrorWholeAsync(subscriptions, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException or RemoteException)
        {
            IncomingLog.ConnectionFailed(_logger, _port.Port, _clientEndPoint, ex.Message);
        }
    }

    private async Task StealWholeAsync(Subscription thief, CancellationToken ct)
    {
        var stream = await TryOpenAsync(thief.Session, IncomingMode.Steal, ct).ConfigureAwait(false);
        if (stream is null)
        {
            await PassThroughAsync(null, ct).ConfigureAwait(false);
            return;
        }

        await using var session = new UpstreamConnection(stream, null);
        await Splice.RunAsync(_fromClient, _client, _toClient, session, null, ct).ConfigureAwait(false);
    }

    /// <summary>The original app serves the connection; each mirroring session gets a copy of what the client sends.</summary>
    private async Task MirrorWholeAsync(ImmutableArray<Subscription> subscriptions, CancellationToken ct)
    {
        var copies = subscriptions.Where(s => s.Mode == IncomingMode.Mirror)
            .Select(s => MirrorCopy.Start(_service, s.Session, _port.Port, _clientEndPoint, _destination)).ToArray();
        try
        {
            await PassThroughAsync(FanOut(copies), ct).ConfigureAwait(false);
        }
        finally
        {
            foreach (var copy in copies)
            {
                copy.Complete();
            }
        }
    }

    /// <summary>The original app gets the rest of the connection untouched, bytes already read included.</summary>
    private async Task PassThroughAsync(Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        var socket = await _port.Original.ConnectAsync(_destination, ct).ConfigureAwait(false);
        await using var original = new UpstreamConnection(new NetworkStream(socket, ownsSocket: false), socket);
        await Splice.RunAsync(_fromClient, _client, _toClient, original, copy, ct).ConfigureAwait(false);
    }

    /// <summary>An incoming stream to the session, or null when the session is gone (the original app serves instead).</summary>
    private async Task<Protocol.Multiplexing.MuxStream?> TryOpenAsync(IncomingSession session, IncomingMode mode, CancellationToken ct)
    {
        try
        {
            return await session.OpenAsync(_port.Port, mode, _clientEndPoint, _destination, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or RemoteException or ObjectDisposedException)
        {
            IncomingLog.SessionUnavailable(_logger, _port.Port, session.ToString(), ex.Message);
            return null;
        }
    }

    /// <summary>
    /// What sees the client's bytes for <paramref name="copies"/>: null when no session mirrors (no delegate, no
    /// closure: this runs for every request of a filtered connection).
    /// </summary>
    private static Action<ReadOnlySequence<byte>>? FanOut(MirrorCopy[] copies) => copies.Length == 0 ? null : Offering(copies);

    private static Action<ReadOnlySequence<byte>> Offering(MirrorCopy[] copies) => bytes => Offer(copies, bytes);

    private static void Offer(MirrorCopy[] copies, ReadOnlySequence<byte> bytes)
    {
        foreach (var copy in copies)
        {
            copy.Offer(bytes);
        }
    }

    /// <summary>
    /// Where the client meant to connect: conntrack's original destination after a redirect; for a connection made
    /// to the listener itself (no redirect in front), the subscribed port at the address the client reached.
    /// </summary>
    private static IPEndPoint Destination(Socket client, PortEntry port)
    {
        var local = Unmap((IPEndPoint)client.LocalEndPoint!);
        return SocketOptions.OriginalDestination(client) is { } original && original.Port != port.ListenerPort
            ? Unmap(original)
            : new IPEndPoint(local.Address, port.Port);
    }

    private static IPEndPoint Unmap(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    public async ValueTask DisposeAsync()
    {
        await _fromClient.CompleteAsync().ConfigureAwait(false);
        await LingerAsync().ConfigureAwait(false);
        await _toClient.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }

    /// <summary>
    /// Ends the connection with a FIN, never a reset: closing a socket with bytes still unread (a request the other
    /// side never got to answer, or one that arrives after the close) makes the kernel reset it, and a reset can make
    /// the client's kernel drop an answer it received but its app has not read yet. So the agent stops sending,
    /// reads what is left until the client closes (for a second at most), and closes only then. After a normal
    /// end the client's FIN is in already and this is one read that returns at once.
    /// </summary>
    private async ValueTask LingerAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            _client.Shutdown(SocketShutdown.Send);
            using var timeout = new CancellationTokenSource(LingerTime);
            while (await _client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client reset, went quiet or is gone: closing is all that is left.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
