using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// The leading agent's side of the coordination socket. Each link is one subscription of another agent's session:
/// the leader sees it as a session of its own (named after the other agent's), so precedence, refusals and routing
/// are the very code that serves its own sessions, and an <see cref="IncomingConnectionRequest"/> opened on it goes to
/// the other agent, which hands it to its session. A link that ends (its agent died or the session unsubscribed)
/// ends that subscription.
/// </summary>
internal sealed class LeaderEndpoint(Socket listener, IncomingService engine, ILogger logger) : IDisposable
{
    private static readonly string AgentVersion = typeof(LeaderEndpoint).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private readonly CancellationTokenSource _stop = new();
    private long _links;

    public void Start() => _ = AcceptAsync();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        IncomingSession? remote = null;
        var rank = 0L;
        var clientName = "?";
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            MuxConnection connection;
            try
            {
                connection = await MuxConnection.AcceptAsync(new StreamDuplexPipe(stream), hello =>
                {
                    if (!LinkName.TryParse(hello.ClientName, out rank, out var session, out clientName))
                    {
                        throw new RemoteException(ErrorCode.InvalidArgument, "Not a coordination link hello.");
                    }

                    // Named as the other agent names it ("session s1 of agent 42 (alice)"), so refusals name the right one.
                    remote = new IncomingSession(session);
                    return new WelcomeMessage(ProtocolLimits.Version, AgentVersion, $"l{Interlocked.Increment(ref _links)}", Environment.ProcessId, 0);
                }, request => HandleAsync(request, remote!, rank), logger: logger, cancellationToken: _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or OperationCanceledException)
            {
                CoordinationLog.LinkRefused(logger, ex.Message);
                return;
            }

            remote!.Attach(connection, clientName);
            engine.Hold.Extend();
            CoordinationLog.FollowerJoined(logger, remote.ToString());
            await using (connection.ConfigureAwait(false))
            {
                string reason;
                try
                {
                    await connection.Completion.WaitAsync(_stop.Token).ConfigureAwait(false);
                    reason = "link closed";
                }
                catch (OperationCanceledException)
                {
                    reason = "this agent is stopping";
                }
                catch (Exception ex)
                {
                    reason = ex.Message;
                }

                CoordinationLog.FollowerLeft(logger, remote.ToString(), reason);
            }
        }
        finally
        {
            if (remote is not null)
            {
                remote.Detach();
                engine.EndSession(remote);
            }
        }
    }

    private Task HandleAsync(IncomingRequest request, IncomingSession remote, long rank)
    {
        switch (request.Message)
        {
            case SubscribeRequest subscribe:
                request.Respond(engine.Subscribe(remote, subscribe, rank));
                engine.Hold.Extend();
                break;
            case UnsubscribeRequest unsubscribe:
                engine.Unsubscribe(remote, unsubscribe.Port);
                request.Respond(new UnsubscribeResponse());
                break;
            default:
                throw new RemoteException(ErrorCode.UnknownRequest, $"A coordination link serves only subscriptions, not {request.Message.Kind}.");
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _stop.Cancel();
        listener.Dispose();
    }
}
