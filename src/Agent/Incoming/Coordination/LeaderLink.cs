using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// A follower's link to the leading agent for one subscription of one of its sessions. The leader opens an
/// <see cref="IncomingConnectionRequest"/> on it for each connection or exchange the subscription takes; the link
/// opens the same request to the session and relays the two streams, so the session cannot tell which agent leads.
/// </summary>
internal sealed class LeaderLink : IAsyncDisposable
{
    private readonly MuxConnection _connection;

    private LeaderLink(MuxConnection connection) => _connection = connection;

    /// <summary>Completes when the link ends, for whatever reason: the leader died, or this side closed it.</summary>
    public Task Completion => _connection.Completion;

    public static async Task<LeaderLink> ConnectAsync(string name, LocalSubscription subscription, ILogger logger, CancellationToken ct)
    {
        var socket = await CoordinationSocket.ConnectAsync(name, ct).ConfigureAwait(false);
        var session = subscription.Session;
        var hello = LinkName.Format(subscription.Rank, session.QualifiedId, session.ClientName);
        try
        {
            var connection = await MuxConnection.ConnectAsync(new StreamDuplexPipe(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true)), "", hello,
                logger: logger, handler: request => RelayAsync(request, session), cancellationToken: ct).ConfigureAwait(false);
            return new LeaderLink(connection);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Makes (or replaces) the subscription at the leader; its refusal comes back as the leader worded it.</summary>
    public Task<SubscribeResponse> SubscribeAsync(SubscribeRequest request, CancellationToken ct) =>
        _connection.RequestAsync<SubscribeResponse>(request, ct);

    public async Task UnsubscribeAsync(ushort port, CancellationToken ct)
    {
        try
        {
            await _connection.RequestAsync<UnsubscribeResponse>(new UnsubscribeRequest(port), ct).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The leader is gone: so is the subscription.
        }
    }

    private static async Task RelayAsync(IncomingRequest request, IncomingSession session)
    {
        if (request.Message is not IncomingConnectionRequest incoming)
        {
            throw new RemoteException(ErrorCode.UnknownRequest, $"A coordination link takes only incoming connections, not {request.Message.Kind}.");
        }

        MuxStream toSession;
        try
        {
            toSession = await session.OpenAsync(incoming.Port, incoming.Mode, incoming.Client, incoming.Destination, request.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException and not RemoteException)
        {
            // The leader then serves the connection from the pod's app, as it would for a session of its own.
            throw new RemoteException(ErrorCode.ConnectionRefused, $"{session} is unavailable: {ex.Message}");
        }

        MuxStream toLeader;
        try
        {
            toLeader = request.CreateStream();
            request.Respond(new IncomingConnectionResponse());
        }
        catch
        {
            toSession.Reset(ErrorCode.Cancelled, "The leading agent gave the connection up.");
            await toSession.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await StreamRelay.RunAsync(toLeader, toSession).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
